using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Raworc.ApiService.Events;
using Raworc.ApiService.Sessions;

namespace Raworc.ApiService.Data.Configurations;

/// <summary>
/// Table <c>state_changes</c>: numbered from the messages' identity sequence (<c>messages_seq_seq</c>), so messages and
/// state changes of a session share one order; deleted with their session.
/// </summary>
internal sealed class StateChangeConfiguration : IEntityTypeConfiguration<StateChange>
{
    public void Configure(EntityTypeBuilder<StateChange> builder)
    {
        builder.ToTable("state_changes");
        builder.HasKey(c => c.Seq);
        builder.Property(c => c.Seq).HasDefaultValueSql("nextval('messages_seq_seq'::regclass)");
        builder.Property(c => c.State).HasMaxLength(16);
        // Text, not jsonb: the event carries the bytes the API wrote, in its key order.
        builder.Property(c => c.Session).HasColumnType("text");
        builder.HasIndex(c => new { c.SessionId, c.Seq });
        builder.HasOne<Session>().WithMany().HasForeignKey(c => c.SessionId).OnDelete(DeleteBehavior.Cascade);
    }
}
