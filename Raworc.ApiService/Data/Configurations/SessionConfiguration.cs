using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Raworc.ApiService.Messages;
using Raworc.ApiService.Operators;
using Raworc.ApiService.Sessions;
using Raworc.ApiService.Work;

namespace Raworc.ApiService.Data.Configurations;

/// <summary>Table <c>sessions</c>: unique names, a state check, and indexes for listing and sweeping.</summary>
internal sealed class SessionConfiguration : IEntityTypeConfiguration<Session>
{
    public void Configure(EntityTypeBuilder<Session> builder)
    {
        builder.ToTable("sessions", table =>
            table.HasCheckConstraint("ck_sessions_state", "state IN ('init','idle','busy','closed','errored')"));
        builder.HasKey(s => s.Id);
        builder.Property(s => s.Name).HasMaxLength(SessionRules.MaxNameLength);
        // Postgres unique indexes allow many NULLs: unnamed sessions never clash.
        builder.HasIndex(s => s.Name).IsUnique();
        builder.Property(s => s.CreatedBy).HasMaxLength(255);
        builder.Property(s => s.CreatedByType).HasMaxLength(16);
        builder.Property(s => s.State).HasMaxLength(16);
        builder.Property(s => s.Metadata).HasColumnType("jsonb");
        builder.Property(s => s.Error).HasMaxLength(1000);
        builder.HasIndex(s => new { s.CreatedBy, s.CreatedByType, s.CreatedAt });
        builder.HasIndex(s => new { s.CreatedByOperatorId, s.CreatedAt });
        // The session list's keyset order (GET /sessions?after=): newest first, ties by id; an admin's list reads it as is.
        builder.HasIndex(s => new { s.CreatedAt, s.Id }).HasDatabaseName("ix_sessions_list_order");
        // Deleting an operator deletes its sessions first (OperatorsApi.DeleteAsync); the key makes any miss an error.
        builder.HasOne<Operator>().WithMany().HasForeignKey(s => s.CreatedByOperatorId).OnDelete(DeleteBehavior.Restrict);
        builder.HasIndex(s => s.PublishedAt).HasFilter("is_published");
        builder.HasIndex(s => s.AutoCloseAt).HasFilter("state = 'idle'");
    }
}

/// <summary>Table <c>session_totals</c>: one row per owner, written only by the triggers on <c>sessions</c> (migration <c>SessionTotals</c>).</summary>
internal sealed class SessionTotalConfiguration : IEntityTypeConfiguration<SessionTotal>
{
    public void Configure(EntityTypeBuilder<SessionTotal> builder)
    {
        builder.ToTable("session_totals");
        builder.HasKey(t => t.OwnerKey);
    }
}

/// <summary>Table <c>messages</c>: ordered by an identity sequence, deleted with their session.</summary>
internal sealed class MessageConfiguration : IEntityTypeConfiguration<Message>
{
    public void Configure(EntityTypeBuilder<Message> builder)
    {
        builder.ToTable("messages", table =>
            table.HasCheckConstraint("ck_messages_role", "role IN ('user','host','system')"));
        builder.HasKey(m => m.Id);
        builder.Property(m => m.Seq).UseIdentityAlwaysColumn();
        builder.HasIndex(m => new { m.SessionId, m.Seq }).IsUnique();
        builder.Property(m => m.Role).HasMaxLength(16);
        builder.Property(m => m.Metadata).HasColumnType("jsonb");
        builder.Property(m => m.TraceParent).HasMaxLength(55);
        builder.Property(m => m.IdempotencyKey).HasMaxLength(IdempotencyKeys.MaxLength);
        // Only the messages posted with a key are in it.
        builder.HasIndex(m => new { m.SessionId, m.IdempotencyKey }).IsUnique().HasFilter("idempotency_key IS NOT NULL");
        builder.HasOne<Session>().WithMany().HasForeignKey(m => m.SessionId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>Table <c>work_items</c>: the queue of computer work.</summary>
internal sealed class WorkItemConfiguration : IEntityTypeConfiguration<WorkItem>
{
    public void Configure(EntityTypeBuilder<WorkItem> builder)
    {
        builder.ToTable("work_items");
        builder.HasKey(w => w.Id);
        builder.Property(w => w.Id).UseIdentityAlwaysColumn();
        builder.Property(w => w.Kind).HasMaxLength(16);
        builder.Property(w => w.Payload).HasColumnType("jsonb");
        builder.Property(w => w.LastError).HasMaxLength(1000);
        builder.Property(w => w.TraceParent).HasMaxLength(55);
        builder.HasIndex(w => new { w.SessionId, w.Id });
    }
}
