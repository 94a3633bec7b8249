using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Auth;
using Raworc.ApiService.Computers;
using Raworc.ApiService.Models;
using Raworc.ApiService.Sessions;

namespace Raworc.ApiService.Work;

/// <summary>Carries out one work item against the computer provider.</summary>
public sealed class ComputerWork(
    RaworcDbContext db, IComputerProvider computers, SessionSecrets secrets, TokenService tokens, IServer server,
    IOptions<ComputerOptions> computerOptions, IOptions<PlatformModelOptions> modelOptions, TimeProvider clock)
{
    /// <summary>Lifetime of a Host token: a session's computer may run this long without a restart.</summary>
    public static readonly TimeSpan HostTokenLifetime = TimeSpan.FromDays(30);

    /// <summary>Does the item's work. Throws on failure; the worker decides whether to retry.</summary>
    public async Task RunAsync(WorkItem item, CancellationToken cancellationToken)
    {
        switch (item.Kind)
        {
            case WorkKinds.Create or WorkKinds.Restore:
                await StartAsync(item.SessionId, cancellationToken);
                break;
            case WorkKinds.Remix:
                var parts = JsonSerializer.Deserialize<RemixPayload>(item.Payload)!;
                if (await StateAsync(item.SessionId, cancellationToken) == SessionStates.Init)
                {
                    await computers.CopyVolumeAsync(parts.ParentSessionId, item.SessionId, new CopyParts(parts.Data, parts.Code, parts.Secrets), cancellationToken);
                    await StartAsync(item.SessionId, cancellationToken);
                }
                break;
            case WorkKinds.Close:
                await computers.StopAsync(item.SessionId, cancellationToken);
                await db.Sessions.Where(s => s.Id == item.SessionId && s.State != SessionStates.Init)
                    .ExecuteUpdateAsync(set => set.SetProperty(s => s.ContainerId, (string?)null), cancellationToken);
                break;
            case WorkKinds.Delete:
                await computers.DeleteAsync(item.SessionId, cancellationToken);
                break;
        }
    }

    private Task<string?> StateAsync(Guid sessionId, CancellationToken cancellationToken) =>
        db.Sessions.Where(s => s.Id == sessionId).Select(s => s.State).FirstOrDefaultAsync(cancellationToken);

    private async Task StartAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        var session = await db.Sessions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == sessionId, cancellationToken);
        if (session is not { State: SessionStates.Init })
        {
            // Closed or deleted while queued: nothing to start.
            return;
        }

        var sessionSecrets = secrets.Unprotect(session.ProtectedSecrets);
        // A provider that boots with a ticket gets no Host token: the agent exchanges the ticket for one (BootApi).
        var ticket = computers.BootsWithTicket ? BootTickets.New() : null;
        // The seed comes with the exchange, not before the start: a volume whose session never reported ready may never have
        // received it. (Judged by the state history, whose rows are pruned, a session restored after a week was seeded
        // again over its own edits of those files.)
        var unseeded = ticket is not null && session.ParentSessionId is null && session.FirstReadyAt is null;
        var spec = new ComputerSpec(session.Id, sessionSecrets, session.Instructions, session.Setup,
            AgentEnvironment(session, sessionSecrets), ticket is null ? IssueHostToken(session) : null, session.Desktop)
        {
            BootTicket = ticket,
            SeedExistingVolume = unseeded,
        };
        await computers.CreateAsync(spec, (handle, ct) => RecordComputerAsync(session, handle, ticket, ct), cancellationToken);
    }

    /// <summary>
    /// Records the computer on its session while the container exists but has not started: its agent cannot run before
    /// this, so when the agent reports ready (init → idle) the session already shows its container. The row is matched by this start (<see cref="Session.ComputerStart"/>, which the Host token carries) and a
    /// live state, not by <c>init</c>: a ready report of this very computer that came first (a Host token used from outside)
    /// never makes the record miss, while a close, error or restore since then does (the close queued after this item removes
    /// the container). The start's boot ticket, if any, is recorded here too (its hash), so it opens this start only.
    /// </summary>
    private async Task RecordComputerAsync(Session session, ComputerHandle handle, string? ticket, CancellationToken cancellationToken)
    {
        var ticketHash = ticket is null ? null : BootTickets.Hash(ticket);
        // The agent runs setup.sh before it reports ready, so a session with a setup script gets the script's time limit too.
        var settings = computerOptions.Value;
        DateTimeOffset? deadline = clock.GetUtcNow().AddSeconds(settings.StartDeadlineSeconds + (session.Setup is null ? 0 : settings.SetupTimeoutSeconds));
        await db.Sessions.Where(s => s.Id == session.Id && s.ComputerStart == session.ComputerStart
                && SessionQuotas.LiveStates.Contains(s.State))
            .ExecuteUpdateAsync(set => set.SetProperty(s => s.ContainerId, handle.ContainerId)
                .SetProperty(s => s.PersistentVolumeId, handle.VolumeName)
                .SetProperty(s => s.BootTicketHash, ticketHash)
                .SetProperty(s => s.ReadyDeadlineAt, s => s.State == SessionStates.Init ? deadline : s.ReadyDeadlineAt), cancellationToken);
    }

    /// <summary>Lifetime of a pool token; the warm pool replaces computers older than half of it.</summary>
    public static readonly TimeSpan PoolTokenLifetime = TimeSpan.FromDays(1);

    /// <summary>
    /// What a warm-pool computer starts with: the reserved session id, the API's address, the model gateway switch and a
    /// pool token (principal <c>pool-&lt;id&gt;</c>, claim <c>pool_id</c>) that only opens the claim route. No secret, no
    /// instructions, no setup script: nothing of any session.
    /// </summary>
    internal ComputerSpec PooledSpec(Guid id) => new(id, new Dictionary<string, string>(), null, null,
        new Dictionary<string, string>
        {
            [HostAgentVariables.ApiUrl] = ApiUrl(),
            [ModelGatewayContract.EnabledVariable] = "true",
        })
    {
        PoolToken = tokens.Issue($"pool-{id}", PrincipalTypes.Pool, PoolTokenLifetime,
            new Dictionary<string, object> { [RaworcClaims.PoolId] = id.ToString() }).Token,
    };

    /// <summary>
    /// The session's part of a claimed warm computer: its Host token, the variables a normal start would have put in the
    /// container's environment (secrets, secret names, model provider and model), and the files a new volume is seeded with.
    /// </summary>
    internal PoolHandover Handover(Session session)
    {
        var sessionSecrets = secrets.Unprotect(session.ProtectedSecrets);
        var environment = new Dictionary<string, string>(sessionSecrets, StringComparer.Ordinal);
        foreach (var (name, value) in AgentEnvironment(session, sessionSecrets))
        {
            environment[name] = value;
        }
        return new PoolHandover(session.Id.ToString("D"), IssueHostToken(session), environment,
            SessionArchive.Files(session.Instructions, session.Setup, sessionSecrets));
    }

    /// <summary>
    /// What a cold start's agent gets for its boot ticket (<see cref="BootApi"/>): the Host token of the start the ticket was
    /// recorded for (<paramref name="start"/>), no variables (the computer was started with them), and, on a new volume
    /// (<paramref name="seed"/>), the files <see cref="SessionArchive.Seed"/> would have written.
    /// </summary>
    internal PoolHandover BootHandover(Session session, int start, bool seed)
    {
        var files = seed ? SessionArchive.Files(session.Instructions, session.Setup, secrets.Unprotect(session.ProtectedSecrets)) : [];
        return new PoolHandover(session.Id.ToString("D"), IssueHostToken(session.Id, start), [], files);
    }

    private Dictionary<string, string> AgentEnvironment(Session session, IReadOnlyDictionary<string, string> sessionSecrets)
    {
        var environment = new Dictionary<string, string>
        {
            [HostAgentVariables.ApiUrl] = ApiUrl(),
            [HostAgentVariables.SecretNames] = string.Join(',', session.SecretNames),
            // The agent calls its model through the API's gateway with its Host token: no model key enters the computer.
            [ModelGatewayContract.EnabledVariable] = "true",
        };
        var models = modelOptions.Value;
        if (ModelProviderFor(models, sessionSecrets) is { } provider)
        {
            environment[HostAgentVariables.ModelProvider] = provider;
        }
        if (models.Model.Length > 0)
        {
            environment[HostAgentVariables.Model] = models.Model;
        }
        return environment;
    }

    /// <summary>
    /// The provider the agent speaks to the gateway: <c>Models:Provider</c>, else <c>anthropic</c> when the platform or the
    /// session has an Anthropic key, else <c>openai</c> when the platform has an OpenAI key or base URL or the session has an
    /// OpenAI key; null when nothing is configured (the agent then answers that no model is configured).
    /// </summary>
    internal static string? ModelProviderFor(PlatformModelOptions models, IReadOnlyDictionary<string, string> sessionSecrets)
    {
        bool Has(string name) => sessionSecrets.TryGetValue(name, out var value) && value.Length > 0;
        return models.Provider.Length > 0 ? models.Provider
            : models.AnthropicApiKey.Length > 0 || Has(HostAgentVariables.AnthropicApiKey) ? ModelGatewayContract.Anthropic
            : models.OpenAiApiKey.Length > 0 || models.BaseUrl.Length > 0 || Has(HostAgentVariables.OpenAiApiKey) ? ModelGatewayContract.OpenAI
            : null;
    }

    /// <summary>
    /// The Host token of this start: principal <c>host-&lt;id&gt;</c>, claims <c>session_id</c> and <c>start</c> (the
    /// session's <see cref="Session.ComputerStart"/>, raised by every close, error and restore), so it stops working
    /// the moment this computer is closed, whatever its expiry says.
    /// </summary>
    private string IssueHostToken(Session session) => IssueHostToken(session.Id, session.ComputerStart);

    private string IssueHostToken(Guid sessionId, int start) => tokens.Issue($"host-{sessionId}", PrincipalTypes.Host, HostTokenLifetime,
        new Dictionary<string, object>
        {
            [RaworcClaims.SessionId] = sessionId.ToString(),
            [RaworcClaims.ComputerStart] = start,
        }).Token;

    /// <summary>
    /// The API address agents use: <c>Computers:ApiUrl</c> when set; with the computer socket a placeholder origin
    /// (every connection goes to the socket, the name only fills the Host header); else this process's own HTTP address.
    /// </summary>
    private string ApiUrl()
    {
        if (computerOptions.Value.ApiUrl is { Length: > 0 } configured)
        {
            return configured;
        }
        if (computerOptions.Value.HostSocketPath.Length > 0)
        {
            return "http://raworc-api/";
        }
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses
            .FirstOrDefault(a => a.StartsWith("http://", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("The API has no HTTP address; set Computers:ApiUrl.");
        return address.Replace("://localhost:", "://127.0.0.1:", StringComparison.Ordinal)
            .Replace("://[::]:", "://127.0.0.1:", StringComparison.Ordinal)
            .Replace("://+:", "://127.0.0.1:", StringComparison.Ordinal)
            .Replace("://*:", "://127.0.0.1:", StringComparison.Ordinal);
    }
}
