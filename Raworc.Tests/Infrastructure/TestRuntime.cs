namespace Raworc.Tests.Infrastructure;

/// <summary>
/// The OCI runtime the tests over real computers run them under: the environment variable <c>RAWORC_TEST_RUNTIME</c>
/// (<c>bash eng/test.sh --runtime runsc</c> and CI's gVisor lane set it to <c>runsc</c>), else <c>runc</c>.
/// The system with computers gets it as <c>Computers__Runtime</c>, the provider tests as <c>ComputerOptions.Runtime</c>.
/// </summary>
/// <remarks>
/// That pass selects tests by namespace (<c>Raworc.Tests.Computers</c> and <c>Raworc.Tests.EndToEnd</c>, see
/// <c>eng/test.sh</c>): a test that starts real computers belongs in one of them.
/// </remarks>
public static class TestRuntime
{
    /// <summary>The runtime name, e.g. <c>runc</c> or <c>runsc</c>.</summary>
    public static string Name { get; } = Environment.GetEnvironmentVariable("RAWORC_TEST_RUNTIME") is { Length: > 0 } name ? name : "runc";
}
