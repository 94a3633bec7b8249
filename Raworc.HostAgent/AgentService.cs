namespace Raworc.HostAgent;

/// <summary>
/// The Host: the agent that answers a session's messages from inside its computer.
/// This first version only reports which session it serves; the tool loop follows.
/// </summary>
public sealed class AgentService(IConfiguration configuration, ILogger<AgentService> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        logger.LogInformation("Host agent started for session {SessionId}", configuration["RAWORC_SESSION_ID"] ?? "(none)");
        return Task.CompletedTask;
    }
}
