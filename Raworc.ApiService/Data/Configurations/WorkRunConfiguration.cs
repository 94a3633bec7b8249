using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Raworc.ApiService.Work;

namespace Raworc.ApiService.Data.Configurations;

/// <summary>Table <c>work_runs</c>: one row per run of a work item, kept after the item is done.</summary>
internal sealed class WorkRunConfiguration : IEntityTypeConfiguration<WorkRun>
{
    public void Configure(EntityTypeBuilder<WorkRun> builder)
    {
        builder.ToTable("work_runs");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Id).UseIdentityAlwaysColumn();
        builder.Property(r => r.Kind).HasMaxLength(16);
        builder.Property(r => r.Worker).HasMaxLength(300);
        builder.Property(r => r.Outcome).HasMaxLength(16);
        builder.HasIndex(r => r.WorkItemId);
        builder.HasIndex(r => r.SessionId);
        builder.HasIndex(r => r.StartedAt);
    }
}
