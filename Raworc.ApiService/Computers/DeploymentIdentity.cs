using Microsoft.EntityFrameworkCore;

namespace Raworc.ApiService.Computers;

/// <summary>
/// This deployment's id, read once from the database (table <c>deployment</c>, one row made by a migration) before
/// the API serves. It scopes the computers a deployment owns on a shared Docker engine.
/// </summary>
public sealed class DeploymentIdentity
{
    private string? _id;

    /// <summary>The id (12 hex characters).</summary>
    /// <exception cref="InvalidOperationException">Read before <see cref="LoadAsync"/>.</exception>
    public string Id => _id ?? throw new InvalidOperationException("The deployment id is read at start-up, after migrations.");

    /// <summary>Reads the id from the database.</summary>
    public async Task LoadAsync(RaworcDbContext db, CancellationToken cancellationToken) =>
        _id = await db.Database.SqlQuery<string>($"SELECT id AS \"Value\" FROM deployment").SingleAsync(cancellationToken);
}
