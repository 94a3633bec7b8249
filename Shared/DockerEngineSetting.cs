namespace Raworc;

/// <summary>
/// The setting that names the Docker engine of the session computers. One definition, compiled into the API (which runs
/// the computers there) and the AppHost (which passes the setting to the API and watches the same engine for the
/// dashboard), so the two cannot talk to different engines.
/// </summary>
internal static class DockerEngineSetting
{
    /// <summary>The configuration key, <c>Computers:DockerEndpoint</c>.</summary>
    public const string Key = "Computers:DockerEndpoint";

    /// <summary>The same key as an environment variable of the API, <c>Computers__DockerEndpoint</c>.</summary>
    public const string Variable = "Computers__DockerEndpoint";

    /// <summary>The engine when the setting is absent: the local engine's socket (not <c>DOCKER_HOST</c>).</summary>
    public const string DefaultEndpoint = "unix:///var/run/docker.sock";

    /// <summary>The API's environment variable that selects the computer provider, <c>Computers__Provider</c>.</summary>
    public const string ProviderVariable = "Computers__Provider";

    /// <summary>The provider value under which <see cref="Variable"/> names a Swarm manager, <c>swarm</c>.</summary>
    public const string SwarmProvider = "swarm";
}
