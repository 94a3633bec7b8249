using System.Formats.Tar;
using System.Net;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using Raworc.ApiService.Computers;

namespace Raworc.Tests.Computers;

/// <summary>One file, folder or symbolic link of a volume as the engine hands it out.</summary>
/// <param name="IsDirectory">Whether it is a folder.</param>
/// <param name="Mode">Its permission bits.</param>
/// <param name="Uid">Its owner's user id.</param>
/// <param name="Content">A file's bytes; empty for a folder or a link.</param>
/// <param name="LinkTarget">What a symbolic link points at; null for anything else.</param>
public sealed record VolumeEntry(bool IsDirectory, UnixFileMode Mode, int Uid, byte[] Content, string? LinkTarget = null)
{
    public string Text => Encoding.UTF8.GetString(Content);
}

/// <summary>Looks at what the provider made, straight through the engine, and removes it afterwards.</summary>
public sealed class DockerProbe(DockerClient docker, string readerImage = ComputerFixture.TestImage)
{
    private const string ReaderLabel = "raworc.test-reader";
    private readonly List<Guid> _sessions = [];

    /// <summary>A fresh session id whose containers and volume are removed by <see cref="CleanUpAsync"/>.</summary>
    public Guid NewSession()
    {
        var id = Guid.NewGuid();
        _sessions.Add(id);
        return id;
    }

    public async Task<bool> VolumeExistsAsync(Guid sessionId)
    {
        try
        {
            await docker.Volumes.InspectAsync(DockerComputerProvider.NameOf(sessionId));
            return true;
        }
        catch (DockerApiException exception) when (exception.StatusCode is HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    public async Task<ContainerInspectResponse?> InspectAsync(Guid sessionId)
    {
        try
        {
            return await docker.Containers.InspectContainerAsync(DockerComputerProvider.NameOf(sessionId));
        }
        catch (DockerContainerNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// Every entry under the volume's root, keyed by path ("code", "code/setup.sh"), read through a
    /// container that is created and never started, so a running computer is not disturbed.
    /// </summary>
    public async Task<Dictionary<string, VolumeEntry>> ReadVolumeAsync(Guid sessionId)
    {
        var reader = await docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = readerImage,
            Labels = new Dictionary<string, string> { [ReaderLabel] = sessionId.ToString("D") },
            HostConfig = new HostConfig
            {
                Mounts = [new Mount { Type = "volume", Source = DockerComputerProvider.NameOf(sessionId), Target = "/session" }],
            },
        });
        try
        {
            var archive = await docker.Containers.GetArchiveFromContainerAsync(
                reader.ID, new GetArchiveFromContainerParameters { Path = "/session" }, statOnly: false);
            var entries = new Dictionary<string, VolumeEntry>();
            using var tar = new TarReader(archive.Stream);
            while (await tar.GetNextEntryAsync(copyData: true) is { } entry)
            {
                var path = entry.Name.TrimEnd('/');
                path = path == "session" ? "" : path["session/".Length..];
                using var content = new MemoryStream();
                if (entry.DataStream is not null)
                {
                    await entry.DataStream.CopyToAsync(content);
                }
                entries[path] = new VolumeEntry(entry.EntryType is TarEntryType.Directory, entry.Mode, entry.Uid, content.ToArray(),
                    entry.EntryType is TarEntryType.SymbolicLink ? entry.LinkName : null);
            }
            return entries;
        }
        finally
        {
            await docker.Containers.RemoveContainerAsync(reader.ID, new ContainerRemoveParameters { Force = true });
        }
    }

    /// <summary>Polls <c>logs/setup.status</c> until it holds a final result; the setup script's time limit bounds the wait.</summary>
    public async Task<Dictionary<string, string>> WaitForSetupStatusAsync(Guid sessionId, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            if ((await ReadVolumeAsync(sessionId)).TryGetValue("logs/setup.status", out var file))
            {
                var status = file.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    .Select(line => line.Split('=', 2))
                    .ToDictionary(pair => pair[0], pair => pair[1]);
                if (status["result"] != "running")
                {
                    return status;
                }
            }
            await Task.Delay(TimeSpan.FromMilliseconds(250), deadline.Token);
        }
    }

    /// <summary>Writes one file (owned by uid 1000) into a running computer's volume.</summary>
    public async Task PutFileAsync(string containerId, string path, byte[] content)
    {
        var stream = new MemoryStream();
        using (var tar = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, path)
            {
                Uid = 1000,
                Gid = 1000,
                Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                DataStream = new MemoryStream(content),
            });
        }
        stream.Position = 0;
        await docker.Containers.ExtractArchiveToContainerAsync(containerId, new ContainerPathStatParameters { Path = "/session" }, stream);
    }

    /// <summary>
    /// Turns a closed session's volume into a plain engine volume with the same files, labels and name, as a volume made
    /// before volume filesystems (or with Computers:VolumeFileSystems off) is: one the API measures instead. A no-op for a
    /// volume that is plain already.
    /// </summary>
    public async Task MakeVolumePlainAsync(Guid sessionId)
    {
        var name = DockerComputerProvider.NameOf(sessionId);
        var volume = await docker.Volumes.InspectAsync(name);
        if (volume.Labels?.ContainsKey(DockerComputerProvider.FileSystemLabel) != true)
        {
            return;
        }
        var labels = volume.Labels.Where(label => label.Key != DockerComputerProvider.FileSystemLabel)
            .ToDictionary(label => label.Key, label => label.Value);
        var aside = $"{name}-aside";
        // The copy aside is not the session's: without its session label, the API's measurement of volumes (every 5 s) never
        // takes it for the session's own. It did once (a CI run under gVisor): its walk of the copy, removed under it, gave
        // -1, and the session restored just after was closed as unmeasurable.
        await docker.Volumes.CreateAsync(new VolumesCreateParameters
        {
            Name = aside,
            Labels = labels.Where(label => label.Key != DockerComputerProvider.SessionLabel).ToDictionary(label => label.Key, label => label.Value),
        });
        try
        {
            await CopyVolumeAsync(name, aside);
            await docker.Volumes.RemoveAsync(name, force: true);
            await VolumeFileSystems.RemoveAsync(ComputerOptions.DefaultVolumeFileSystemsPath, name, CancellationToken.None);
            await docker.Volumes.CreateAsync(new VolumesCreateParameters { Name = name, Labels = labels });
            await CopyVolumeAsync(aside, name);
        }
        finally
        {
            await docker.Volumes.RemoveAsync(aside, force: true);
        }
    }

    private async Task CopyVolumeAsync(string from, string to)
    {
        var copier = await docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = readerImage,
            User = "0",
            Entrypoint = ["sh", "-c", "cp -a /from/. /to/"],
            Labels = new Dictionary<string, string> { [ReaderLabel] = from },
            HostConfig = new HostConfig
            {
                Mounts =
                [
                    new Mount { Type = "volume", Source = from, Target = "/from", ReadOnly = true },
                    new Mount { Type = "volume", Source = to, Target = "/to", VolumeOptions = new VolumeOptions { NoCopy = true } },
                ],
            },
        });
        try
        {
            await docker.Containers.StartContainerAsync(copier.ID, new ContainerStartParameters());
            var done = await docker.Containers.WaitContainerAsync(copier.ID);
            Assert.Equal(0, done.StatusCode);
        }
        finally
        {
            await docker.Containers.RemoveContainerAsync(copier.ID, new ContainerRemoveParameters { Force = true });
        }
    }

    /// <summary>Removes every container labelled with a session of this test (and its readers), then the volumes.</summary>
    public async Task CleanUpAsync()
    {
        foreach (var id in _sessions)
        {
            foreach (var label in new[] { $"{DockerComputerProvider.SessionLabel}={id:D}", $"{ReaderLabel}={id:D}" })
            {
                var containers = await docker.Containers.ListContainersAsync(new ContainersListParameters
                {
                    All = true,
                    Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [label] = true } },
                });
                foreach (var container in containers)
                {
                    await docker.Containers.RemoveContainerAsync(container.ID, new ContainerRemoveParameters { Force = true });
                }
            }
            try
            {
                await docker.Volumes.RemoveAsync(DockerComputerProvider.NameOf(id), force: true);
            }
            catch (DockerApiException exception) when (exception.StatusCode is HttpStatusCode.NotFound)
            {
            }
            await VolumeFileSystems.RemoveAsync(ComputerOptions.DefaultVolumeFileSystemsPath, DockerComputerProvider.NameOf(id), CancellationToken.None);
        }
    }
}
