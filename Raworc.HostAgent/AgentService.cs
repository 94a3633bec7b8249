using System.Text.Json.Nodes;
using Polly;
using Polly.Retry;
using Raworc.HostAgent.Api;
using Raworc.HostAgent.Turns;

namespace Raworc.HostAgent;

/// <summary>
/// The Host's main loop: runs the setup program when the session has a <c>code/setup.sh</c> (<see cref="SetupRunner"/>),
/// reports ready (<c>POST /idle</c> while the session is <c>init</c>), reads the tail of the
/// history newest first (only as far as a turn needs, see <see cref="HistoryWindow"/>), then long-polls for new messages. Whenever user messages are unanswered (<see cref="PendingMessages"/>) it marks
/// the session busy, runs one turn for all of them, posts the results and marks it idle again, even when the turn
/// failed. API failures are retried with backoff (1 s doubling to 30 s) after reloading the history; a tool message whose
/// post failed transiently is posted again up to <see cref="ToolMessageRetries"/> times, from
/// <see cref="AgentOptions.ToolMessageRetryDelay"/> doubling, with the message's own <c>Idempotency-Key</c>
/// (<see cref="NewMessage.IdempotencyKey"/>): a first post that was stored before its answer was lost is not stored again.
/// </summary>
/// <param name="api">The session's API calls.</param>
/// <param name="runner">Runs one turn.</param>
/// <param name="options">The settings (session, setup program, long-poll wait).</param>
/// <param name="logger">The agent's log.</param>
/// <param name="beforeSessionCode">Called once before any code of the session can run: before <c>setup.sh</c>, or after the
/// first ready report when there is none (the bash tool's standby shell starts there, with the session's environment).</param>
/// <param name="network">Waited for before <c>setup.sh</c> runs, when the computer's network comes after its start (the
/// bash tool waits for it too); none when null.</param>
public sealed class AgentService(RaworcApiClient api, TurnRunner runner, AgentOptions options, ILogger<AgentService> logger,
    Action? beforeSessionCode = null, NetworkAttachment? network = null)
{
    private Action? _beforeSessionCode = beforeSessionCode;

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    /// <summary>How many times a tool message whose post failed transiently (a 5xx, a connection failure) is posted again.</summary>
    public const int ToolMessageRetries = 3;

    // Only what may pass: a 4xx would answer the same again.
    private readonly ResiliencePipeline _toolMessageRetry = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = ToolMessageRetries,
            Delay = options.ToolMessageRetryDelay,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            ShouldHandle = new PredicateBuilder()
                .Handle<HttpRequestException>()
                .Handle<RaworcApiException>(ex => (int)ex.Status >= 500),
        })
        .Build();

    /// <summary>How often the agent repeats <c>POST /busy</c> during a turn: the API keeps it as a heartbeat (60 s TTL in Redis).</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(15);

    /// <summary>Runs the loop until <paramref name="stoppingToken"/> is cancelled (then completes without an exception).</summary>
    /// <param name="stoppingToken">The agent stopping (SIGTERM in a computer).</param>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        try
        {
            await LoopAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task LoopAsync(CancellationToken stoppingToken)
    {
        logger.LogInformation("Host agent serving session {SessionId}", options.SessionId);
        if (options.SetupCommand is { } setup)
        {
            if (SetupRunner.HasScript(options.SessionDirectory))
            {
                BeforeSessionCode();
                if (network is not null && !await network.WaitAsync(stoppingToken))
                {
                    logger.LogWarning("The computer's network was not attached within {Limit}; running setup.sh without it", NetworkAttachment.Limit);
                }
                await SetupRunner.RunAsync(setup, logger, stoppingToken);
            }
            else
            {
                // Nothing to run: no process is started, and the ready report follows at once.
                SetupRunner.RecordNone(options.SessionDirectory, logger);
            }
        }
        var backoff = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ServeAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or RaworcApiException or TaskCanceledException or System.Text.Json.JsonException)
            {
                logger.LogWarning("The API call failed ({Reason}); retrying in {Delay}", FailureText.DescribeForLog(ex), backoff);
                await Task.Delay(backoff, stoppingToken);
                backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
            }
        }
    }

    private async Task ServeAsync(CancellationToken stoppingToken)
    {
        await SetIdleAsync(SetupRunner.ReadOutcome(options.SessionDirectory), stoppingToken);
        BeforeSessionCode();
        var history = await LoadTailAsync(stoppingToken);
        logger.LogInformation("Loaded the newest {Count} messages; ready", history.Messages.Count);
        while (!stoppingToken.IsCancellationRequested)
        {
            if (PendingMessages.Find(history.Messages) is { Count: > 0 } pending)
            {
                var lastSeen = history.NewestId;
                await RunTurnAsync(history.Messages, pending[^1], stoppingToken);
                // Re-read in the API's order: user messages that arrived during the turn precede the posted answer.
                history.AddNewer(await api.GetAllMessagesAsync(lastSeen, stoppingToken));
                continue;
            }

            history.AddNewer(await api.GetMessagesAsync(history.NewestId, options.PollWaitSeconds, RaworcApiClient.PageSize, 0, stoppingToken));
        }
    }

    // Reads the history backwards, newest first, only until older messages could no longer change a turn.
    private async Task<HistoryWindow> LoadTailAsync(CancellationToken stoppingToken)
    {
        var window = new HistoryWindow(runner.HistoryBudgetChars);
        while (!window.IsComplete)
        {
            var (page, truncated) = await api.GetOlderMessagesAsync(window.OldestId, RaworcApiClient.PageSize, stoppingToken);
            window.AddOlder(page, isOldest: page.Count < RaworcApiClient.PageSize && !truncated);
        }
        return window;
    }

    private async Task RunTurnAsync(IReadOnlyList<SessionMessage> history, SessionMessage newest, CancellationToken stoppingToken)
    {
        // Every call of the turn, the heartbeat's too, joins the trace of the message it answers.
        using var trace = TurnTrace.Begin(newest.TraceParent);
        await SetBusyAsync(stoppingToken);
        using var turnDone = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var heartbeat = BeatAsync(turnDone.Token);
        var posted = 0;
        try
        {
            logger.LogInformation("Turn started for messages through {MessageId}", newest.Id);
            // Tool activity is posted as it happens; the answer last, naming the newest message it answers.
            IReadOnlyList<NewMessage> results;
            try
            {
                results = await runner.RunAsync(history, async (toolMessage, ct) => posted += await TryPostToolMessageAsync(toolMessage, ct), stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Without an answer the same turn would be retried forever; answer with the failure instead.
                logger.LogError("The turn failed: {Reason}", FailureText.DescribeForLog(ex));
                results = [new NewMessage(
                    $"The Host agent failed while running this turn ({FailureText.Describe(ex)}). Send a message to try again.",
                    new JsonObject { ["type"] = MessageTypes.Error, ["code"] = "agent_error" })];
            }

            foreach (var message in results.Where(m => m.Type is not MessageTypes.ToolExecution))
            {
                message.Metadata[PendingMessages.ReplyTo] = newest.Id;
                await api.PostMessageAsync(message, stoppingToken);
                posted++;
            }

            logger.LogInformation("Turn finished: {Count} messages posted", posted);
        }
        finally
        {
            await turnDone.CancelAsync();
            await heartbeat;
            // Never leave the session busy, even when the turn or a post failed.
            await SetIdleAsync(null, CancellationToken.None);
        }
    }

    private void BeforeSessionCode() => Interlocked.Exchange(ref _beforeSessionCode, null)?.Invoke();

    private async Task BeatAsync(CancellationToken turnDone)
    {
        using var timer = new PeriodicTimer(HeartbeatInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(turnDone))
            {
                try
                {
                    await api.MarkBusyAsync(turnDone);
                }
                catch (Exception ex) when (ex is HttpRequestException or RaworcApiException)
                {
                    logger.LogWarning("Heartbeat not sent: {Reason}", FailureText.DescribeForLog(ex));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    // Tool messages are announcements: failing to post one must not fail the tool call the model is waiting for. A transient
    // failure is retried (ToolMessageRetries), else the history would lack the call for good.
    private async Task<int> TryPostToolMessageAsync(NewMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await _toolMessageRetry.ExecuteAsync(async (state, token) => await state.Api.PostMessageAsync(state.Message, token),
                (Api: api, Message: message), cancellationToken);
            return 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or RaworcApiException)
        {
            logger.LogWarning("A tool message was not posted: {Reason}", FailureText.DescribeForLog(ex));
            return 0;
        }
    }

    private async Task SetBusyAsync(CancellationToken cancellationToken)
    {
        try
        {
            await api.MarkBusyAsync(cancellationToken);
        }
        catch (RaworcApiException ex) when (ex.Status == System.Net.HttpStatusCode.Conflict)
        {
            logger.LogInformation("Busy not set: {Reason}", FailureText.DescribeForLog(ex));
        }
    }

    /// <summary>The ready report (with <paramref name="setup"/>) or the end of a turn (null).</summary>
    private async Task SetIdleAsync(SetupOutcome? setup, CancellationToken cancellationToken)
    {
        try
        {
            await (setup is null ? api.MarkIdleAsync(cancellationToken) : api.ReportReadyAsync(setup, cancellationToken));
        }
        catch (RaworcApiException ex) when (ex.Status == System.Net.HttpStatusCode.Conflict)
        {
            // Already idle (for instance after a restart of the agent alone).
            logger.LogInformation("Idle not set: {Reason}", FailureText.DescribeForLog(ex));
        }
    }
}
