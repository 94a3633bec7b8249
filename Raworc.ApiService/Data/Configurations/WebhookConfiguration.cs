using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Raworc.ApiService.Operators;
using Raworc.ApiService.Webhooks;

namespace Raworc.ApiService.Data.Configurations;

/// <summary>Table <c>webhooks</c>: deleted with their operator.</summary>
internal sealed class WebhookConfiguration : IEntityTypeConfiguration<Webhook>
{
    public void Configure(EntityTypeBuilder<Webhook> builder)
    {
        builder.ToTable("webhooks");
        builder.HasKey(w => w.Id);
        builder.Property(w => w.Url).HasMaxLength(WebhookRules.MaxUrlLength);
        builder.Property(w => w.DisabledReason).HasMaxLength(1000);
        builder.HasIndex(w => w.OperatorId);
        builder.HasOne<Operator>().WithMany().HasForeignKey(w => w.OperatorId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>Table <c>webhook_deliveries</c>: the outbox; a partial index keeps the pending ones quick to find.</summary>
internal sealed class WebhookDeliveryConfiguration : IEntityTypeConfiguration<WebhookDelivery>
{
    public void Configure(EntityTypeBuilder<WebhookDelivery> builder)
    {
        builder.ToTable("webhook_deliveries");
        builder.HasKey(d => d.Id);
        builder.Property(d => d.Id).UseIdentityAlwaysColumn();
        builder.Property(d => d.EventType).HasMaxLength(32);
        builder.Property(d => d.LastError).HasMaxLength(1000);
        builder.HasIndex(d => new { d.WebhookId, d.Id });
        builder.HasIndex(d => new { d.WebhookId, d.SessionId, d.Id }).HasFilter("delivered_at IS NULL");
        builder.HasIndex(d => d.NextAttemptAt).HasFilter("delivered_at IS NULL");
        builder.HasOne<Webhook>().WithMany().HasForeignKey(d => d.WebhookId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>Table <c>webhook_attempts</c>: deleted with their delivery.</summary>
internal sealed class WebhookAttemptConfiguration : IEntityTypeConfiguration<WebhookAttempt>
{
    public void Configure(EntityTypeBuilder<WebhookAttempt> builder)
    {
        builder.ToTable("webhook_attempts");
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Id).UseIdentityAlwaysColumn();
        builder.Property(a => a.Error).HasMaxLength(1000);
        builder.HasIndex(a => a.DeliveryId);
        builder.HasOne<WebhookDelivery>().WithMany().HasForeignKey(a => a.DeliveryId).OnDelete(DeleteBehavior.Cascade);
    }
}
