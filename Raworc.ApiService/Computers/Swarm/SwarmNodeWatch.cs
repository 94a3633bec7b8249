using System.Text.Json.Nodes;
using Raworc.ApiService.Messages;
using Raworc.ApiService.Sessions;

namespace Raworc.ApiService.Computers.Swarm;

/// <summary>
/// Every <see cref="Interval"/>: a live session (<c>init</c>, <c>idle</c>, <c>busy</c>) whose computer is pinned to a node that
/// is down, drained or gone is closed — never deleted — with a <c>system</c> message saying so (metadata
/// <c>{"type":"node_unavailable","node":"…"}</c>). Its files stay on that node; a restore is refused with
/// <see cref="ComputerNodeUnavailableException"/>'s message until the node is back. Runs only with <c>Computers:Provider=swarm</c>;
/// two replicas may both try, and the second close is simply not applied.
/// </summary>
public sealed partial class SwarmNodeWatch(IServiceScopeFactory scopes, SwarmComputerProvider computers, TimeProvider clock,
    ILogger<SwarmNodeWatch> logger) : BackgroundService
{
    /// <summary>How often the nodes are looked at.</summary>
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await CloseStrandedAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogFailed(FailureText.DescribeForLog(exception));
            }
            await Task.Delay(Interval, clock, stoppingToken);
        }
    }

    /// <summary>Closes the live sessions whose node is not available; returns them.</summary>
    /// <param name="cancellationToken">Cancels the engine and database calls.</param>
    public async Task<IReadOnlyList<Guid>> CloseStrandedAsync(CancellationToken cancellationToken)
    {
        var stranded = await computers.StrandedAsync(cancellationToken);
        if (stranded.Count == 0)
        {
            return [];
        }
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RaworcDbContext>();
        var conversation = scope.ServiceProvider.GetRequiredService<Conversation>();
        var ids = stranded.Keys.ToList();
        var live = await db.Sessions.LiveIdsAsync(ids, cancellationToken);
        var closed = new List<Guid>();
        foreach (var id in live)
        {
            var node = stranded[id];
            var text = $"The session was closed: the cluster node that runs its computer ({node}) is no longer available. "
                + "Nothing was deleted; its files stay on that node, and the session can be restored once the node is back.";
            var (result, _) = await conversation.AppendAsync(id, MessageRoles.System, text,
                new JsonObject { ["type"] = "node_unavailable", ["node"] = node }, SessionEvent.Close, cancellationToken: cancellationToken);
            if (result.IsApplied)
            {
                LogClosed(id, node);
                closed.Add(id);
            }
        }
        return closed;
    }

    [LoggerMessage(LogLevel.Warning, "Closed session {SessionId}: its node {NodeId} is not available")]
    private partial void LogClosed(Guid sessionId, string nodeId);

    [LoggerMessage(LogLevel.Warning, "Looking for sessions on unavailable nodes failed: {Reason}")]
    private partial void LogFailed(string reason);
}
