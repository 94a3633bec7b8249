using Docker.DotNet;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Raworc.ApiService.Computers;
using Raworc.ApiService.Errors;
using StackExchange.Redis;

namespace Raworc;

/// <summary>The API's dependencies in the words of <see cref="FailureText.Describe"/>.</summary>
internal static partial class FailureText
{
    private static partial string? DescribeOwn(Exception exception) => exception switch
    {
        // Written for users: they name the image, the runtime, the node or the reservation, nothing secret.
        IComputerErrorForUsers => exception.Message,
        ApiException api => api.Message,
        VolumeFileSystemException { Tool: { } tool } => $"{tool} failed on the session volume's own filesystem",
        VolumeFileSystemException => "the session volume's own filesystem could not be made, mounted or checked",
        DockerApiException docker => $"the Docker engine answered {(int)docker.StatusCode}",
        PostgresException { SqlState: PostgresErrorCodes.TooManyConnections } => "Postgres has no free connection (53300)",
        PostgresException { SqlState: PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown } postgres =>
            $"Postgres closed the connection ({postgres.SqlState})",
        PostgresException { SqlState: PostgresErrorCodes.CannotConnectNow } => "Postgres is starting or stopping (57P03)",
        // The SQLSTATE only: the message text may quote the values of a row.
        PostgresException postgres => $"Postgres refused the statement (SQLSTATE {postgres.SqlState})",
        NpgsqlException { InnerException: TimeoutException } => "Postgres did not answer in time, or no pooled connection was free",
        NpgsqlException => "Postgres is unavailable",
        DbUpdateConcurrencyException => "another change to the same row came first",
        RedisTimeoutException => "Redis did not answer in time",
        RedisException => "Redis is unavailable",
        _ => null,
    };
}
