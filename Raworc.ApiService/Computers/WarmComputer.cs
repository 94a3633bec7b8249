using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Raworc.ApiService.Computers;

/// <summary>
/// A started computer of the warm pool that no session has claimed yet (table <c>warm_computers</c>). Its
/// <see cref="Id"/> is the id the session that claims it will get, so the container and volume already carry the
/// session's names (<c>raworc-session-&lt;id&gt;</c>) and labels from the start: nothing is renamed or relabelled at
/// claim time. A claim deletes the row in the transaction that inserts the session row with the same id, so a
/// computer is claimed at most once (see <see cref="WarmPoolClaims"/>). Rows live in the deployment's database,
/// which scopes the pool to the deployment.
/// </summary>
public sealed class WarmComputer
{
    /// <summary>The reserved session id (UUID v7, made when the computer was started).</summary>
    public Guid Id { get; set; }

    /// <summary>The engine's container id once started; null while the pool is still starting it.</summary>
    public string? ContainerId { get; set; }

    /// <summary>
    /// The settings the computer was started with (<see cref="WarmPool.Fingerprint"/>: image, runtime, limits, network);
    /// only rows of the current fingerprint are claimed, the others are replaced.
    /// </summary>
    public required string Fingerprint { get; set; }

    /// <summary>When the pool started it (UTC).</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When its agent first called the claim route (UTC): from then on a claim is handed over at once. Null before.</summary>
    public DateTimeOffset? ReadyAt { get; set; }
}

internal sealed class WarmComputerConfiguration : IEntityTypeConfiguration<WarmComputer>
{
    public void Configure(EntityTypeBuilder<WarmComputer> builder)
    {
        builder.ToTable("warm_computers");
        builder.HasKey(w => w.Id);
        builder.Property(w => w.Id).ValueGeneratedNever();
        builder.Property(w => w.ContainerId).HasMaxLength(128);
        builder.Property(w => w.Fingerprint).HasMaxLength(64);
    }
}
