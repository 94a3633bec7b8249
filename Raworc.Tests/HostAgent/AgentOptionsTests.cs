using Raworc.HostAgent;
using Raworc.HostAgent.Api;

namespace Raworc.Tests.HostAgent;

/// <summary>How the agent takes its token and its API address from the environment.</summary>
public sealed class AgentOptionsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("raworc-agent-options-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static AgentOptions Read(Dictionary<string, string?> values) =>
        AgentOptions.FromEnvironment(AgentEnvironment.From(values));

    private static Dictionary<string, string?> Base() => new()
    {
        ["RAWORC_API_URL"] = "http://raworc-api/",
        ["RAWORC_SESSION_ID"] = "s-1",
    };

    [Fact]
    public void TokenFileIsReadOnceAndDeleted()
    {
        var path = Path.Combine(_folder, "host-token");
        File.WriteAllText(path, "token-from-file\n");
        var values = Base();
        values["RAWORC_HOST_TOKEN_FILE"] = path;
        values["RAWORC_API_SOCKET"] = "/run/raworc/api.sock";

        var options = Read(values);

        Assert.Equal("token-from-file", options.HostToken);
        Assert.Equal("/run/raworc/api.sock", options.ApiSocket);
        Assert.False(File.Exists(path));
        var again = Assert.Throws<InvalidOperationException>(() => Read(values));
        Assert.Equal("The Host token file named by RAWORC_HOST_TOKEN_FILE cannot be read (a file or folder was not found).", again.Message);
    }

    [Fact]
    public void TokenFileTooLargeToBeATokenIsRefusedAndKept()
    {
        var path = Path.Combine(_folder, "host-token");
        File.WriteAllBytes(path, new byte[AgentOptions.MaxTokenFileBytes + 1]);
        var values = Base();
        values["RAWORC_HOST_TOKEN_FILE"] = path;

        var error = Assert.Throws<InvalidOperationException>(() => Read(values));

        Assert.Equal("RAWORC_HOST_TOKEN_FILE names a file too large to be a token.", error.Message);
    }

    [Fact]
    public void WithoutAFileTheTokenComesFromTheEnvironmentAndTcpIsUsed()
    {
        var values = Base();
        values["RAWORC_HOST_TOKEN"] = "token-from-env";

        var options = Read(values);

        Assert.Equal(("token-from-env", null, null), (options.HostToken, options.ApiSocket, options.SetupCommand));
    }
}
