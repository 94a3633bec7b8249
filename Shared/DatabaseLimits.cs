namespace Raworc;

/// <summary>
/// How many Postgres connections the API's processes may open, and how many Postgres then allows: compiled into the API
/// (its pool bound) and the AppHost (Postgres's <c>max_connections</c>), which must agree.
/// </summary>
internal static class DatabaseLimits
{
    /// <summary>Connections one API process opens at most, unless its connection string says otherwise (Npgsql's <c>Maximum Pool Size</c>).</summary>
    public const int ApiMaxPoolSize = 50;

    /// <summary>Postgres's own default <c>max_connections</c> (PostgreSQL documentation, "Connections and Authentication").</summary>
    public const int PostgresDefaultMaxConnections = 100;

    /// <summary>
    /// Connections kept free beside the API's pools: the AppHost's health check, migrations' and tools' sessions, an
    /// operator's <c>psql</c>, the tests' own queries.
    /// </summary>
    public const int Reserve = 20;

    /// <summary>
    /// The <c>max_connections</c> Postgres needs under <paramref name="apiReplicas"/> API processes whose pools may all be
    /// full at once: each process's <see cref="ApiMaxPoolSize"/> plus the <see cref="Reserve"/>, and never below Postgres's
    /// default. One replica: 100 (the default); two: 120; four: 220. Under two replicas with the default, a burst that
    /// filled both pools (100 connections) left none for anything else, and Postgres refused the next with 53300 ("too
    /// many clients already").
    /// </summary>
    public static int MaxConnections(int apiReplicas) =>
        Math.Max(PostgresDefaultMaxConnections, Math.Max(1, apiReplicas) * ApiMaxPoolSize + Reserve);
}
