using Raworc.ApiService.Messages;
using Raworc.ApiService.Sessions;

namespace Raworc.ApiService.Computers;

/// <summary>
/// Tells the user, as a <c>system</c> message, when <c>code/setup.sh</c> failed or hit its time limit. The
/// computer's entry script records the outcome in <c>/session/logs/setup.status</c> (<c>result=</c>,
/// <c>exit_code=</c>, <c>timeout_seconds=</c>); it is read once the agent reports ready.
/// </summary>
public sealed class SetupReport(IComputerProvider computers, Conversation conversation, ILogger<SetupReport> logger)
{
    /// <summary>Where the entry script writes the outcome.</summary>
    public const string StatusPath = "/session/logs/setup.status";

    /// <summary>Posts the system message when the last setup run failed or timed out.</summary>
    public async Task PostIfFailedAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        string? status;
        try
        {
            status = await computers.ReadFileAsync(sessionId, StatusPath, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning("Reading the setup status of session {SessionId} failed: {Reason}", sessionId, FailureText.Describe(ex));
            return;
        }
        var fields = (status ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('=', 2)).Where(pair => pair.Length == 2)
            // Last one wins: a repeated key must not fail the ready report.
            .GroupBy(pair => pair[0].Trim()).ToDictionary(group => group.Key, group => group.Last()[1].Trim());
        // The file is in the session's volume, so its code could have written it: only numbers go into the message.
        static string Number(Dictionary<string, string> fields, string key) =>
            fields.TryGetValue(key, out var value) && int.TryParse(value, System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out var number) ? number.ToString(System.Globalization.CultureInfo.InvariantCulture) : "?";
        var text = fields.GetValueOrDefault("result") switch
        {
            "failed" => $"The setup script (code/setup.sh) failed with exit code {Number(fields, "exit_code")}; its output is in /session/logs/setup.log.",
            "timeout" => $"The setup script (code/setup.sh) was stopped after its time limit of {Number(fields, "timeout_seconds")} s; its output is in /session/logs/setup.log.",
            _ => null,
        };
        if (text is null)
        {
            return;
        }
        await conversation.AppendAsync(sessionId, MessageRoles.System, text,
            new System.Text.Json.Nodes.JsonObject { ["type"] = "setup", ["result"] = fields["result"] }, SessionEvent.Touch,
            cancellationToken: cancellationToken);
    }
}
