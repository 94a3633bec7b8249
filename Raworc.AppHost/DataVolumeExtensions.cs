namespace Raworc.AppHost;

/// <summary>Keeps Postgres's data in a named Docker volume, so a stopped and restarted AppHost finds it again.</summary>
internal static class DataVolumeExtensions
{
    /// <summary>
    /// Mounts the volume <c>&lt;<see cref="AppHostOptions.DataVolume"/>&gt;-&lt;major version&gt;</c> (e.g.
    /// <c>raworc-postgres-data-18</c>) where the image in use keeps its data; nothing when the setting is empty.
    /// Call after the image is chosen: the mount path and the suffix follow the image's tag.
    /// </summary>
    /// <remarks>
    /// Aspire's <c>WithDataVolume</c> picks the path from the tag: <c>/var/lib/postgresql</c> for PostgreSQL 18 and
    /// later (whose official image keeps its data in <c>18/docker</c> below it), <c>/var/lib/postgresql/data</c> before
    /// (the <c>PGDATA</c> of the offline image, tagged 15). The version suffix keeps a machine that switches between the
    /// official and the offline image from handing one version's files to the other.
    /// </remarks>
    public static IResourceBuilder<PostgresServerResource> WithDataVolume(
        this IResourceBuilder<PostgresServerResource> postgres, AppHostOptions options)
    {
        if (options.DataVolume.Length == 0)
        {
            return postgres;
        }
        var tag = postgres.Resource.Annotations.OfType<ContainerImageAnnotation>().Last().Tag ?? "";
        var major = tag.Split('.', '-')[0];
        return postgres.WithDataVolume(major.Length > 0 ? $"{options.DataVolume}-{major}" : options.DataVolume);
    }
}
