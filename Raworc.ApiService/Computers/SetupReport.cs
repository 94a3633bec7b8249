using Raworc.ApiService.Messages;
using Raworc.ApiService.Sessions;

namespace Raworc.ApiService.Computers;

/// <summary>
/// Tells the user, as a <c>system</c> message, when <c>code/setup.sh</c> failed or hit its time limit. The
/// computer's entry script records the outcome in <c>/session/logs/setup.status</c> (<c>result=</c>,
/// <c>exit_code=</c>, <c>timeout_seconds=</c>); the Host agent reads it and sends it with its ready report.
/// </summary>
public sealed class SetupReport(IComputerProvider computers, Conversation conversation, ILogger<SetupReport> logger)
{
    /// <summary>Where the entry script writes the outcome.</summary>
    public const string StatusPath = "/session/logs/setup.status";

    /// <summary>
    /// Posts the system message when the last setup run failed or timed out. The outcome is the one the Host reported with
    /// its ready report; without one (an agent of an earlier image) the status file is read out of the computer, an engine
    /// call that costs the Docker engine ~100 ms of CPU (it archives the file in a process of its own).
    /// </summary>
    /// <param name="sessionId">The session whose Host just reported ready.</param>
    /// <param name="reported">The Host's outcome, or null.</param>
    /// <param name="cancellationToken">The request's.</param>
    public async Task PostIfFailedAsync(Guid sessionId, SetupOutcome? reported, CancellationToken cancellationToken)
    {
        var outcome = reported;
        if (outcome is null)
        {
            string? status;
            try
            {
                status = await computers.ReadFileAsync(sessionId, StatusPath, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Reading the setup status of session {SessionId} failed: {Reason}", sessionId, FailureText.DescribeForLog(ex));
                return;
            }
            outcome = SetupOutcome.Parse(status);
        }
        // The outcome comes from where the session's code can write: only numbers go into the message.
        static string Number(int? value) => value is >= 0 ? value.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : "?";
        var text = outcome.Result switch
        {
            "failed" => $"The setup script (code/setup.sh) failed with exit code {Number(outcome.ExitCode)}; its output is in /session/logs/setup.log.",
            "timeout" => $"The setup script (code/setup.sh) was stopped after its time limit of {Number(outcome.TimeoutSeconds)} s; its output is in /session/logs/setup.log.",
            _ => null,
        };
        if (text is null)
        {
            return;
        }
        await conversation.AppendAsync(sessionId, MessageRoles.System, text,
            new System.Text.Json.Nodes.JsonObject { ["type"] = "setup", ["result"] = outcome.Result }, SessionEvent.Touch,
            cancellationToken: cancellationToken);
    }
}
