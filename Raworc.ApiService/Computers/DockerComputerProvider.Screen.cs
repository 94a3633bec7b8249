using Docker.DotNet;
using Docker.DotNet.Models;

namespace Raworc.ApiService.Computers;

public sealed partial class DockerComputerProvider
{
    /// <summary>
    /// The screenshot command run in a desktop computer: ImageMagick's <c>import</c> of the root window, PNG on stdout,
    /// killed after <see cref="ScreenshotCommandSeconds"/> by coreutils' <c>timeout</c> (the image's, on its read-only
    /// root): the display is the session's, and a display that never answers must not leave an <c>import</c> behind
    /// at every request.
    /// </summary>
    internal static readonly IList<string> ScreenshotCommand =
        ["/usr/bin/timeout", "-s", "KILL", ScreenshotCommandSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "/usr/bin/import", "-silent", "-window", "root", "png:-"];

    /// <summary>Seconds the screenshot command may run in the computer.</summary>
    private const int ScreenshotCommandSeconds = 10;

    /// <summary>How long one screenshot may take, engine calls included; past it the answer is empty (the caller's 502).</summary>
    private static readonly TimeSpan ScreenshotTimeout = TimeSpan.FromSeconds(15);

    /// <inheritdoc />
    public Task<byte[]?> CaptureScreenAsync(Guid sessionId, int maxBytes, CancellationToken cancellationToken) =>
        CaptureContainerScreenAsync(docker, NameOf(sessionId), maxBytes, cancellationToken);

    /// <summary>What <see cref="CaptureScreenAsync"/> does, for any container of any engine (the Swarm provider's nodes too).</summary>
    internal static async Task<byte[]?> CaptureContainerScreenAsync(IDockerClient docker, string container, int maxBytes, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ScreenshotTimeout);
        try
        {
            return await CaptureAsync(docker, container, maxBytes, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The computer (its display, its engine calls) did not answer in time: no screenshot, the same as a bad one.
            return [];
        }
    }

    private static async Task<byte[]?> CaptureAsync(IDockerClient docker, string container, int maxBytes, CancellationToken cancellationToken)
    {
        ContainerExecCreateResponse exec;
        try
        {
            // The user and the display are set here, not taken from the container: the session's code may have changed
            // its own environment, never this exec's.
            exec = await docker.Exec.ExecCreateContainerAsync(container, new ContainerExecCreateParameters
            {
                Cmd = ScreenshotCommand,
                User = ContainerUser,
                Env = [$"{HostAgentVariables.Display}=:{HostAgentVariables.DisplayNumber}"],
                AttachStdout = true,
                AttachStderr = true,
            }, cancellationToken);
        }
        catch (DockerContainerNotFoundException)
        {
            return null;
        }
        catch (DockerApiException exception) when (exception.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
            // The container exists but does not run.
            return null;
        }

        using var stream = await docker.Exec.StartAndAttachContainerExecAsync(exec.ID, tty: false, cancellationToken);
        using var output = new MemoryStream();
        var buffer = new byte[81920];
        while (true)
        {
            var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, cancellationToken);
            if (read.EOF)
            {
                break;
            }
            if (read.Target != MultiplexedStream.TargetStream.StandardOut)
            {
                continue;
            }
            // Past the cap the rest is not read: the answer is refused anyway.
            var room = maxBytes - (int)output.Length;
            output.Write(buffer, 0, Math.Min(room, read.Count));
            if (read.Count >= room)
            {
                break;
            }
        }
        return output.ToArray();
    }
}
