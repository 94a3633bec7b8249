using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Raworc.ApiService.Events;
using Raworc.ApiService.Messages;
using Raworc.ApiService.Operators;
using Raworc.ApiService.Sessions;
using Raworc.ApiService.Webhooks;
using Raworc.ApiService.Work;

namespace Raworc.ApiService.Data;

/// <summary>
/// The database of Raworc: the source of truth for everything that must survive a restart.
/// </summary>
/// <remarks>
/// Migrations live in <c>Data/Migrations</c> and are applied at start-up by
/// <see cref="DataExtensions.MigrateDatabaseAsync"/>. To add one (from the repository root):
/// <code>dotnet tool restore &amp;&amp; dotnet ef migrations add NAME --project Raworc.ApiService --output-dir Data/Migrations</code>
/// </remarks>
public sealed class RaworcDbContext(DbContextOptions<RaworcDbContext> options) : DbContext(options), IDataProtectionKeyContext
{
    /// <summary>Operators (accounts).</summary>
    public DbSet<Operator> Operators => Set<Operator>();

    /// <summary>Sessions.</summary>
    public DbSet<Session> Sessions => Set<Session>();

    /// <summary>Each owner's number of sessions, kept by triggers on <c>sessions</c> (<see cref="SessionTotal"/>).</summary>
    public DbSet<SessionTotal> SessionTotals => Set<SessionTotal>();

    /// <summary>Messages of all sessions.</summary>
    public DbSet<Message> Messages => Set<Message>();

    /// <summary>State changes of all sessions (their event stream's <c>state</c> events).</summary>
    public DbSet<StateChange> StateChanges => Set<StateChange>();

    /// <summary>The queue of computer work.</summary>
    public DbSet<WorkItem> WorkItems => Set<WorkItem>();

    /// <summary>Runs of work items (<c>work_runs</c>), kept after the items are done.</summary>
    public DbSet<WorkRun> WorkRuns => Set<WorkRun>();

    /// <summary>Started computers of the warm pool that no session has claimed yet.</summary>
    public DbSet<Computers.WarmComputer> WarmComputers => Set<Computers.WarmComputer>();

    /// <summary>Operators' webhooks.</summary>
    public DbSet<Webhook> Webhooks => Set<Webhook>();

    /// <summary>The webhook outbox: one row per event and webhook.</summary>
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();

    /// <summary>Every HTTP attempt of a webhook delivery.</summary>
    public DbSet<WebhookAttempt> WebhookAttempts => Set<WebhookAttempt>();

    /// <summary>Data Protection keys, shared by every replica (they encrypt session secrets).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(RaworcDbContext).Assembly);
}
