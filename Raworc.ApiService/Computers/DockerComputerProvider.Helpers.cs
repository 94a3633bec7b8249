using System.Net;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Raworc.ApiService.Computers;

/// <summary>The short-lived helper containers that work on session volumes from outside the computers (remix copy, volume count).</summary>
public sealed partial class DockerComputerProvider
{
    /// <summary>How a helper container ended.</summary>
    /// <param name="ExitCode">Its script's exit code; null when it was killed at its time limit.</param>
    /// <param name="Output">What it wrote to standard output (up to its kill, if it was killed); null when not asked for.</param>
    private sealed record HelperRun(long? ExitCode, string? Output);

    /// <summary>
    /// Runs <paramref name="script"/> with <c>bash -c</c> in a helper container and removes the container (named
    /// <paramref name="name"/>) when done, whatever happened, also when creating it failed (a leftover of that name goes).
    /// </summary>
    /// <remarks>
    /// The computers' image on Docker's default runtime, as root (owners, modes and every folder are its work) but with every
    /// capability dropped except <paramref name="capabilities"/>, no new privileges, no network, a read-only root, the
    /// computers' CPU and memory limits, 64 processes and a 1 MB log. The session's code cannot reach it (another container).
    /// Past <paramref name="timeout"/> the exit code is null (the removal kills it). The output is read only when
    /// <paramref name="readOutput"/> (a helper that prints nothing is not failed by a removal after its exit); then a helper
    /// past its time is killed first and what it printed so far is returned.
    /// </remarks>
    /// <exception cref="DockerImageNotFoundException">The computers' image is not on the engine.</exception>
    /// <exception cref="DockerContainerNotFoundException">The container was removed under it (a delete of a session it mounts).</exception>
    private async Task<HelperRun> RunHelperContainerAsync(string name, IDictionary<string, string> labels, string script, IList<string> environment,
        IList<string> capabilities, IList<Mount> mounts, TimeSpan timeout, bool readOutput, CancellationToken cancellationToken)
    {
        try
        {
            var created = await docker.Containers.CreateContainerAsync(new CreateContainerParameters
            {
                Name = name,
                Image = options.Value.Image,
                User = "0:0",
                Entrypoint = ["/bin/bash", "-c"],
                Cmd = [script],
                Env = environment,
                Labels = labels,
                HostConfig = new HostConfig
                {
                    NetworkMode = "none",
                    CapDrop = ["ALL"],
                    CapAdd = capabilities,
                    SecurityOpt = ["no-new-privileges"],
                    ReadonlyRootfs = true,
                    PidsLimit = 64,
                    NanoCPUs = (long)Math.Round(options.Value.Cpus * 1_000_000_000),
                    Memory = options.Value.MemoryMiB * 1024L * 1024L,
                    LogConfig = new LogConfig { Type = "json-file", Config = new Dictionary<string, string> { ["max-size"] = "1m", ["max-file"] = "1" } },
                    Mounts = mounts,
                },
            }, cancellationToken);
            await docker.Containers.StartContainerAsync(created.ID, new ContainerStartParameters(), cancellationToken);
            long? exitCode;
            using (var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                limit.CancelAfter(timeout);
                try
                {
                    exitCode = (await docker.Containers.WaitContainerAsync(created.ID, limit.Token)).StatusCode;
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    exitCode = null;
                }
            }
            if (!readOutput)
            {
                return new HelperRun(exitCode, null);
            }
            if (exitCode is null)
            {
                // Stopped before the read, so the read holds all it printed.
                await KillHelperAsync(created.ID, cancellationToken);
            }
            using var logs = await docker.Containers.GetContainerLogsAsync(created.ID, tty: false,
                new ContainerLogsParameters { ShowStdout = true }, cancellationToken);
            var (output, _) = await logs.ReadOutputToEndAsync(cancellationToken);
            return new HelperRun(exitCode, output);
        }
        finally
        {
            await RemoveContainerAsync(name, CancellationToken.None);
        }
    }

    private async Task KillHelperAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            await docker.Containers.KillContainerAsync(id, new ContainerKillParameters(), cancellationToken);
        }
        catch (DockerApiException exception) when (exception.StatusCode is HttpStatusCode.Conflict)
        {
            // It ended between its time limit and the kill.
        }
    }
}
