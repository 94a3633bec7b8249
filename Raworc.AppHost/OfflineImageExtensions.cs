namespace Raworc.AppHost;

/// <summary>Switches Postgres and Redis to the locally built images on machines with no registry.</summary>
internal static class OfflineImageExtensions
{
    /// <summary>Image of <c>eng/images/postgres</c>: Debian's postgresql-15 behind the official image's entrypoint contract.</summary>
    public const string PostgresImage = "raworc/postgres";

    /// <summary>Image of <c>eng/images/redis</c>: Debian's redis-server.</summary>
    public const string RedisImage = "raworc/redis";

    public static IResourceBuilder<PostgresServerResource> WithOfflineImage(
        this IResourceBuilder<PostgresServerResource> postgres, AppHostOptions options) =>
        options.OfflineImages
            ? postgres.WithImage(PostgresImage, "15").WithImagePullPolicy(ImagePullPolicy.Never)
            : postgres;

    public static IResourceBuilder<RedisResource> WithOfflineImage(
        this IResourceBuilder<RedisResource> redis, AppHostOptions options)
    {
        // Redis runs under `sh -c`, and a shell as PID 1 ignores SIGTERM: an init process makes stop prompt.
        redis = redis.WithContainerRuntimeArgs("--init");
        return options.OfflineImages
            ? redis.WithImage(RedisImage, "7").WithImagePullPolicy(ImagePullPolicy.Never)
            : redis;
    }
}
