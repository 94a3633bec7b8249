using System.Formats.Tar;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Computers;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Computers;

/// <summary>
/// A Docker client and a test image built from the real eng/images/host-agent files, with a stand-in
/// agent that stays up until stopped (the real agent would need an API to talk to). The apt layer
/// is shared with raworc/host-agent through Docker's build cache.
/// </summary>
public sealed class ComputerFixture : IAsyncLifetime
{
    public const string TestImage = "raworc/host-agent-test:latest";
    private const string OfflineBase = "raworc/debian-base:bookworm";
    // Like the real agent it runs the image's setup program first, then stays up until stopped.
    private const string StandInAgent = "#!/bin/bash\n# Stand-in for the Host agent.\n\"$RAWORC_SETUP_COMMAND\"\nexec sleep infinity\n";

    /// <summary>This fixture's own deployment label, so its listings never see another run's computers.</summary>
    public string Deployment { get; } = $"engine-tests-{Guid.NewGuid():N}"[..24];

    public DockerClient Docker { get; } = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();

    public DockerComputerProvider Provider(Action<ComputerOptions>? configure = null)
    {
        var settings = new ComputerOptions { Image = TestImage, Deployment = Deployment, Runtime = TestRuntime.Name };
        configure?.Invoke(settings);
        var options = Options.Create(settings);
        return new DockerComputerProvider(Docker, options, new ComputerNetwork(Docker, options, NullLogger<ComputerNetwork>.Instance),
            NullLogger<DockerComputerProvider>.Instance);
    }

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var buildArgs = new Dictionary<string, string>();
        try
        {
            await Docker.Images.InspectImageAsync(OfflineBase, timeout.Token);
            buildArgs["BASE_IMAGE"] = OfflineBase;
        }
        catch (DockerImageNotFoundException)
        {
            // A machine with a registry builds FROM the Dockerfile's public default.
        }

        var errors = new Errors();
        // The plain computer's target: the Dockerfile's last stage is the desktop variant (README "Desktops: computer use").
        await Docker.Images.BuildImageFromDockerfileAsync(
            new ImageBuildParameters { Tags = [TestImage], BuildArgs = buildArgs, Remove = true, Target = "plain" },
            BuildContext(), authConfigs: null, headers: null, errors, timeout.Token);
        if (errors.Messages.Count > 0)
        {
            throw new InvalidOperationException("Building the test image failed: " + string.Join("; ", errors.Messages));
        }
    }

    public Task DisposeAsync()
    {
        Docker.Dispose();
        return Task.CompletedTask;
    }

    private static MemoryStream BuildContext()
    {
        var folder = Path.Combine(Repository.Root, "eng", "images", "host-agent");
        var stream = new MemoryStream();
        using (var tar = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
        {
            Add(tar, "Dockerfile", File.ReadAllBytes(Path.Combine(folder, "Dockerfile")));
            Add(tar, "raworc-entry.sh", File.ReadAllBytes(Path.Combine(folder, "raworc-entry.sh")));
            Add(tar, "raworc-setup.sh", File.ReadAllBytes(Path.Combine(folder, "raworc-setup.sh")));
            Add(tar, "raworc-host-agent", Encoding.UTF8.GetBytes(StandInAgent));
            Add(tar, "raworc-statx-retry.so", StatxRetryLibrary(folder));
            Add(tar, "ld.so.preload", File.ReadAllBytes(Path.Combine(folder, "ld.so.preload")));
        }
        stream.Position = 0;
        return stream;
    }

    /// <summary>
    /// statx-retry.c compiled as eng/host-agent-image.sh compiles it (the host's C compiler, which the agent's Native AOT
    /// build needs as well), so the test image preloads the same library as the real one.
    /// </summary>
    private static byte[] StatxRetryLibrary(string folder)
    {
        var output = Path.Combine(Path.GetTempPath(), $"raworc-statx-retry-{Guid.NewGuid():N}.so");
        try
        {
            using var compiler = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("cc",
                ["-O2", "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror", "-s", "-o", output, Path.Combine(folder, "statx-retry.c")])
            {
                RedirectStandardError = true,
            })!;
            var error = compiler.StandardError.ReadToEnd();
            compiler.WaitForExit();
            if (compiler.ExitCode != 0)
            {
                throw new InvalidOperationException($"cc could not compile statx-retry.c: {error}");
            }
            return File.ReadAllBytes(output);
        }
        finally
        {
            File.Delete(output);
        }
    }

    private static void Add(TarWriter tar, string name, byte[] content) =>
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name)
        {
            Mode = (UnixFileMode)0b111_101_101,
            // A fixed time keeps the build cache valid from one run to the next.
            ModificationTime = DateTimeOffset.UnixEpoch,
            DataStream = new MemoryStream(content),
        });

    // Synchronous, unlike Progress<T>, so every message is collected when the build returns.
    private sealed class Errors : IProgress<JSONMessage>
    {
        public List<string> Messages { get; } = [];

        public void Report(JSONMessage value)
        {
            var message = value.Error?.Message ?? value.ErrorMessage;
            if (!string.IsNullOrEmpty(message))
            {
                Messages.Add(message);
            }
        }
    }
}
