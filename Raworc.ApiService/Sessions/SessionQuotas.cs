using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Auth;
using Raworc.ApiService.Computers;
using Raworc.ApiService.Errors;

namespace Raworc.ApiService.Sessions;

/// <summary>
/// The quotas on live sessions (<c>init</c>, <c>idle</c>, <c>busy</c>): per owner (<c>Sessions:MaxPerOperator</c>) and for
/// the whole deployment (<c>Computers:Capacity</c>); and on the disk an owner's sessions hold
/// (<c>Sessions:MaxDiskMiBPerOperator</c>), checked at the same moments. Each check takes a transaction-scoped advisory
/// lock (the owner's, then the capacity's, always in that order) before it counts, so two requests at the limit cannot
/// both pass: the second counts only after the first committed its new live session or rolled back. Must run inside the transaction that then makes the
/// session live; a refusal is a 409 <c>CONFLICT</c> thrown before anything is written.
/// </summary>
public sealed class SessionQuotas(RaworcDbContext db, IOptions<SessionOptions> sessions, IOptions<ComputerOptions> computers)
{
    // Any fixed numbers: the class of the per-owner advisory locks (two-key form, the owner's hash is the second key)
    // and the one capacity lock (one-key form; Postgres keeps the two forms apart).
    private const int OwnerLockClass = 0x7261_7701;
    private const long CapacityLockKey = 0x7261_776f_7263_0002;

    /// <summary>
    /// How long a check may wait for its advisory lock: two minutes, not the 30 s command timeout. The lock queues every
    /// create, remix and restore of one owner behind the others' transactions; twenty creates of one operator at once on
    /// a loaded 2-core machine queued 38 s (a CI run, two replicas and a warm pool), and those past 30 s were answered 503
    /// although nothing was unavailable. The request's own cancellation (the client gone) still ends the wait.
    /// </summary>
    public static readonly TimeSpan LockWait = TimeSpan.FromMinutes(2);

    /// <summary>The states that hold (or are about to hold) a computer.</summary>
    public static readonly string[] LiveStates = [SessionStates.Init, SessionStates.Idle, SessionStates.Busy];

    /// <summary>Ensures <paramref name="owner"/> and the deployment have room for one more live session.</summary>
    /// <exception cref="ApiException">409 when either limit is reached.</exception>
    public async Task EnsureRoomAsync(SessionOwner owner, CancellationToken cancellationToken)
    {
        if (await RefusalAsync(owner, cancellationToken) is { } refusal)
        {
            throw new ApiException(409, refusal);
        }
    }

    /// <summary>Why <paramref name="owner"/> or the deployment has no room for one more live session, or null when they have.</summary>
    public async Task<string?> RefusalAsync(SessionOwner owner, CancellationToken cancellationToken)
    {
        var perOwner = sessions.Value.MaxPerOperator;
        var diskMiB = sessions.Value.MaxDiskMiBPerOperator;
        if (perOwner > 0 || diskMiB > 0)
        {
            var lockName = owner.OperatorId is { } id ? $"Operator:{id}" : $"{owner.Type}:{owner.Name}";
            await LockAsync($"SELECT pg_advisory_xact_lock({OwnerLockClass}, hashtext({lockName}))", cancellationToken);
        }
        if (perOwner > 0)
        {
            var live = await owner.Filter(db.Sessions).CountAsync(s => LiveStates.Contains(s.State), cancellationToken);
            if (live >= perOwner)
            {
                return $"'{owner.Name}' already has {live} live sessions, the most allowed (Sessions:MaxPerOperator = {perOwner}); close or delete one first.";
            }
        }
        if (diskMiB > 0 && computers.Value.Provider == ComputerProviders.Docker)
        {
            // Each session's volume by the name made from its id, whatever its row records: a remix's child closed while its
            // copy ran keeps the copy and never records a volume (found by a break-out attempt), and a warm computer's
            // volume, recorded at its claim, is named after the id the session takes from it.
            var owned = await owner.Filter(db.Sessions).Select(s => new { s.Id, s.PersistentVolumeId }).ToListAsync(cancellationToken);
            var volumes = owned.Select(s => DockerComputerProvider.NameOf(s.Id))
                .Concat(owned.Where(s => s.PersistentVolumeId is not null).Select(s => s.PersistentVolumeId!))
                .Distinct(StringComparer.Ordinal);
            var used = VolumeFileSystems.AllocatedBytes(computers.Value.VolumeFileSystemsPath, volumes);
            if (used >= diskMiB * MiB)
            {
                return $"'{owner.Name}'s sessions take {DiskMiB(used)} MiB of disk, the most allowed is {diskMiB} MiB "
                    + "(Sessions:MaxDiskMiBPerOperator); delete sessions or files in them first.";
            }
        }

        var capacity = computers.Value.Capacity;
        if (capacity > 0)
        {
            await LockAsync($"SELECT pg_advisory_xact_lock({CapacityLockKey})", cancellationToken);
            var live = await db.Sessions.CountAsync(s => LiveStates.Contains(s.State), cancellationToken);
            if (live >= capacity)
            {
                return $"The deployment runs its capacity of {capacity} computers (Computers:Capacity); try again when a session closes.";
            }
        }
        return null;
    }

    private const long MiB = 1024 * 1024;

    /// <summary>Bytes of disk as the quota's message gives them: whole MiB, rounded up.</summary>
    public static long DiskMiB(long bytes) => (bytes + MiB - 1) / MiB;

    // Takes an advisory lock with the command timeout raised to LockWait for that statement only.
    private async Task LockAsync(FormattableString statement, CancellationToken cancellationToken)
    {
        var timeout = db.Database.GetCommandTimeout();
        db.Database.SetCommandTimeout(LockWait);
        try
        {
            await db.Database.ExecuteSqlAsync(statement, cancellationToken);
        }
        finally
        {
            db.Database.SetCommandTimeout(timeout);
        }
    }

    /// <summary>
    /// Why session <paramref name="sessionId"/> may not become live again (a restore), counted against its owner; null when it
    /// may, or when the session is gone (the transition then finds it gone).
    /// </summary>
    public async Task<string?> RefusalToRestoreAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        var owner = await db.Sessions.AsNoTracking().Where(s => s.Id == sessionId)
            .Select(s => new SessionOwner(s.CreatedBy, s.CreatedByType, s.CreatedByOperatorId)).FirstOrDefaultAsync(cancellationToken);
        return owner is null ? null : await RefusalAsync(owner, cancellationToken);
    }
}

/// <summary>Who a session belongs to, as the quota counts it: an operator by its row id, a user by its name.</summary>
/// <param name="Name">The owner's name (wire <c>created_by</c>).</param>
/// <param name="Type">The owner's principal type.</param>
/// <param name="OperatorId">The operator's row id; null for a user.</param>
public sealed record SessionOwner(string Name, string Type, Guid? OperatorId)
{
    /// <summary>The owner a session created by <paramref name="caller"/> gets.</summary>
    public static SessionOwner Of(ClaimsPrincipal caller) => new(caller.Name(), caller.Type(), caller.OperatorId());

    /// <summary>This owner's sessions.</summary>
    public IQueryable<Session> Filter(IQueryable<Session> sessions)
    {
        var (name, type) = (Name, Type);
        return OperatorId is { } id
            ? sessions.Where(s => s.CreatedByOperatorId == id)
            : sessions.Where(s => s.CreatedByOperatorId == null && s.CreatedBy == name && s.CreatedByType == type);
    }
}
