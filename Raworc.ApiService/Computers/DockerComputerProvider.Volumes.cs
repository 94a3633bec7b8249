using System.Net;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Raworc.ApiService.Computers;

/// <summary>Remix (volume copy) and the engine calls the operations share.</summary>
public sealed partial class DockerComputerProvider
{
    // Runs as root in a helper container: parent volume read-only at /from, child volume at /to. The parent's computer may
    // still be running, and its code may swap any folder for a link at any moment: nothing here may follow a path it
    // controls. GNU tar opens each folder and file relative to its folder's descriptor with O_NOFOLLOW (cp -a opens them
    // by their whole path, so a folder swapped for a link after cp looked at it was followed), so a link is archived as a
    // link; --one-file-system keeps it on the volume. A part tar met as a link, or as no folder, is left out: that check
    // is made in /to, which nothing of the parent's can reach. Owners and modes are kept (--numeric-owner, -p), and so are
    // user.* extended attributes; not --acls, which tar reads with getxattr by path, following a link. tar's exit 1 says a
    // file changed or went away while read (the parent may be running): it is archived as found. The child's root and
    // folders end up owned by raworc (uid 1000). --sparse keeps a file's holes holes: else a parent's `truncate -s 1G`,
    // which costs the host nothing, became a gigabyte of zeros written into every child (a break-out attempt's finding).
    private const string CopyScript = """
        set -eu
        cd /to
        for part in $RAWORC_COPY_PARTS; do
          if [ -d "/from/$part" ] && [ ! -L "/from/$part" ]; then
            tar -C /from --one-file-system --numeric-owner --format=posix --xattrs --sparse -cf - "$part" \
              | tar -C /to --numeric-owner --xattrs -xpf -
            created=${PIPESTATUS[0]}
            [ "$created" -le 1 ] || exit "$created"
          fi
          if [ -L "$part" ] || { [ -e "$part" ] && [ ! -d "$part" ]; }; then rm -f -- "$part"; fi
        done
        mkdir -p code data secrets logs
        chown 1000:1000 . code data secrets logs
        chmod 0755 . code data logs
        chmod 0700 secrets
        """;

    /// <inheritdoc />
    public async Task CopyVolumeAsync(Guid fromSessionId, Guid toSessionId, CopyParts parts, CancellationToken cancellationToken)
    {
        var from = NameOf(fromSessionId);
        var to = NameOf(toSessionId);
        if (await InspectVolumeAsync(from, cancellationToken) is not { } parent)
        {
            throw new ComputerCopyFailedException("The parent session's files could not be copied: its volume does not exist.");
        }
        // A closed parent's filesystem is not mounted after a restart of the machine.
        await EnsureMountedAsync(parent, cancellationToken);
        if (!await EnsureVolumeAsync(toSessionId, cancellationToken))
        {
            throw new ComputerCopyFailedException("The parent session's files could not be copied: this session's volume already exists.");
        }

        var copied = new List<string>();
        if (parts.Data) { copied.Add("data"); }
        if (parts.Code) { copied.Add("code"); }
        if (parts.Secrets) { copied.Add("secrets"); }

        var labels = Labels(toSessionId);
        labels[RoleLabel] = "copy";
        var succeeded = false;
        try
        {
            // Root, for ownership and modes, but with only the capabilities cp -a needs.
            var run = await RunHelperContainerAsync($"raworc-copy-{toSessionId:D}", labels, CopyScript,
                [$"RAWORC_COPY_PARTS={string.Join(' ', copied)}"], ["CHOWN", "DAC_OVERRIDE", "FOWNER"],
                [
                    new Mount { Type = "volume", Source = from, Target = "/from", ReadOnly = true },
                    new Mount { Type = "volume", Source = to, Target = "/to" },
                ],
                TimeSpan.FromSeconds(options.Value.CopyTimeoutSeconds), readOutput: false, cancellationToken);
            switch (run.ExitCode)
            {
                case null:
                    throw new ComputerCopyFailedException(
                        $"The parent session's files could not be copied within {options.Value.CopyTimeoutSeconds} s (Computers:CopyTimeoutSeconds).");
                case not 0:
                    throw new ComputerCopyFailedException(
                        $"The parent session's files could not be copied (the copy exited with code {run.ExitCode}).");
            }
            succeeded = true;
            LogCopied(fromSessionId, toSessionId, string.Join(' ', copied));
        }
        catch (DockerImageNotFoundException)
        {
            throw new ComputerImageNotFoundException(options.Value.Image);
        }
        finally
        {
            if (!succeeded)
            {
                await RemoveVolumeAsync(to, CancellationToken.None);
            }
        }
    }

    private async Task EnsureImageAsync(string image, CancellationToken cancellationToken)
    {
        try
        {
            await docker.Images.InspectImageAsync(image, cancellationToken);
        }
        catch (DockerImageNotFoundException)
        {
            throw new ComputerImageNotFoundException(image);
        }
        catch (DockerApiException exception) when (exception.StatusCode is HttpStatusCode.NotFound)
        {
            throw new ComputerImageNotFoundException(image);
        }
    }

    /// <summary>
    /// Makes the session's volume if it does not exist: a filesystem of its own when <see cref="VolumeFileSystems.Enabled"/>,
    /// else a plain one. An existing volume's filesystem is mounted again if the machine restarted since.
    /// </summary>
    /// <returns><see langword="true"/> when the volume was created by this call.</returns>
    private async Task<bool> EnsureVolumeAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        var name = NameOf(sessionId);
        if (await InspectVolumeAsync(name, cancellationToken) is { } existing)
        {
            await EnsureMountedAsync(existing, cancellationToken);
            return false;
        }
        // The engine's record of the volume is gone but its filesystem is not (a `docker volume prune`, an engine whose data
        // was wiped): the files are the session's, so the record is made again over them. A filesystem made and never
        // given its record (the API stopped in between) is empty, and is made again below.
        if (await _fileSystems.AdoptAsync(name, cancellationToken) is { } adopted)
        {
            await CreateFileSystemVolumeAsync(sessionId, adopted, cancellationToken);
            return false;
        }
        if (!_fileSystems.Enabled)
        {
            await docker.Volumes.CreateAsync(new VolumesCreateParameters { Name = name, Labels = Labels(sessionId) }, cancellationToken);
            return true;
        }
        var driverOptions = await _fileSystems.CreateAsync(name, cancellationToken);
        try
        {
            await CreateFileSystemVolumeAsync(sessionId, driverOptions, cancellationToken);
        }
        catch
        {
            await _fileSystems.RemoveOfVolumeAsync(name, null, CancellationToken.None);
            throw;
        }
        return true;
    }

    /// <summary>The engine's volume over a filesystem of its own: a <c>local</c> bind of its mount folder, labelled as such.</summary>
    private async Task CreateFileSystemVolumeAsync(Guid sessionId, Dictionary<string, string> driverOptions, CancellationToken cancellationToken)
    {
        var labels = Labels(sessionId);
        labels[ComputerLabels.FileSystem] = VolumeFileSystems.Ext4;
        await docker.Volumes.CreateAsync(new VolumesCreateParameters
        {
            Name = NameOf(sessionId),
            Driver = "local",
            DriverOpts = driverOptions,
            Labels = labels,
        }, cancellationToken);
    }

    private async Task EnsureMountedAsync(VolumeResponse volume, CancellationToken cancellationToken)
    {
        if (FileSystemMountPoint(volume) is { } mountPoint)
        {
            await _fileSystems.EnsureMountedAsync(volume.Name, mountPoint, cancellationToken);
        }
    }

    /// <summary>Where the volume's own filesystem is mounted (the folder the engine binds), or null for a plain volume.</summary>
    private static string? FileSystemMountPoint(VolumeResponse volume) =>
        volume.Labels is { } labels && labels.TryGetValue(ComputerLabels.FileSystem, out var kind) && kind == VolumeFileSystems.Ext4
            && volume.Options is { } driverOptions && driverOptions.TryGetValue("device", out var device)
            ? device
            : null;

    private async Task<VolumeResponse?> InspectVolumeAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return await docker.Volumes.InspectAsync(name, cancellationToken);
        }
        catch (DockerApiException exception) when (exception.StatusCode is HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private async Task RemoveContainerAsync(string nameOrId, CancellationToken cancellationToken)
    {
        try
        {
            await docker.Containers.RemoveContainerAsync(nameOrId, new ContainerRemoveParameters { Force = true }, cancellationToken);
        }
        catch (DockerContainerNotFoundException)
        {
        }
        catch (DockerApiException exception) when (exception.StatusCode is HttpStatusCode.NotFound)
        {
        }
    }

    private async Task RemoveVolumeAsync(string name, CancellationToken cancellationToken)
    {
        var mountPoint = await InspectVolumeAsync(name, cancellationToken) is { } volume ? FileSystemMountPoint(volume) : null;
        try
        {
            await docker.Volumes.RemoveAsync(name, force: true, cancellationToken);
        }
        catch (DockerApiException exception) when (exception.StatusCode is HttpStatusCode.NotFound)
        {
        }
        // Its own filesystem, if it had one (or one left by a create that stopped before the engine's volume was made).
        await _fileSystems.RemoveOfVolumeAsync(name, mountPoint, cancellationToken);
    }

    private async Task<IList<ContainerListResponse>> ListLabelledAsync(string label, CancellationToken cancellationToken) =>
        await docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [label] = true } },
        }, cancellationToken);

    /// <summary>This platform's containers (any deployment) that mount <paramref name="volume"/>.</summary>
    private async Task<IList<ContainerListResponse>> ListMountingAsync(string volume, CancellationToken cancellationToken) =>
        await docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["volume"] = new Dictionary<string, bool> { [volume] = true },
                ["label"] = new Dictionary<string, bool> { [$"{ManagedLabel}=true"] = true },
            },
        }, cancellationToken);

    [LoggerMessage(LogLevel.Information, "Computer of session {SessionId} started: container {ContainerId}, new volume: {NewVolume}")]
    private partial void LogStarted(Guid sessionId, string containerId, bool newVolume);

    [LoggerMessage(LogLevel.Debug, "Computer of session {SessionId} attached to network {Network}")]
    private partial void LogNetworkAttached(Guid sessionId, string network);

    [LoggerMessage(LogLevel.Warning, "Computer of session {SessionId} could not be attached to its network after its start ({Reason}); the reconciler tries again")]
    private partial void LogAttachFailed(Guid sessionId, string reason);

    [LoggerMessage(LogLevel.Information, "Computer of session {SessionId} stopped; its volume is kept")]
    private partial void LogStopped(Guid sessionId);

    [LoggerMessage(LogLevel.Information, "Computer and volume of session {SessionId} deleted")]
    private partial void LogDeleted(Guid sessionId);

    [LoggerMessage(LogLevel.Information, "Volume of session {FromSessionId} copied to session {ToSessionId} (folders: {Parts})")]
    private partial void LogCopied(Guid fromSessionId, Guid toSessionId, string parts);

    [LoggerMessage(LogLevel.Warning, "Docker engine unreachable: {Reason}")]
    private partial void LogUnreachable(string reason);
}
