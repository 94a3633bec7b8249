using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Raworc.ApiService.Operators;

namespace Raworc.ApiService.Data.Configurations;

/// <summary>Table <c>operators</c>: unique name, the password hash kept out of every projection.</summary>
internal sealed class OperatorConfiguration : IEntityTypeConfiguration<Operator>
{
    public void Configure(EntityTypeBuilder<Operator> builder)
    {
        builder.ToTable("operators");
        builder.HasKey(o => o.Id);
        builder.Property(o => o.Name).HasMaxLength(64);
        builder.HasIndex(o => o.Name).IsUnique();
        builder.Property(o => o.Description).HasMaxLength(1000);
        builder.Property(o => o.PasswordHash).HasMaxLength(512);
    }
}
