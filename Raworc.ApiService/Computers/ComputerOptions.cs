using System.ComponentModel.DataAnnotations;

namespace Raworc.ApiService.Computers;

/// <summary>Settings of sessions' computers, bound from the configuration section <c>Computers</c>.</summary>
public sealed class ComputerOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Computers";

    /// <summary>Image every computer runs; it must exist on the engine (never pulled).</summary>
    [Required]
    public string Image { get; set; } = "raworc/host-agent:latest";

    /// <summary>CPU limit per computer, in CPUs (0.5 = half of one core).</summary>
    [Range(0.01, 256)]
    public double Cpus { get; set; } = 0.5;

    /// <summary>Memory limit per computer, in MiB.</summary>
    [Range(16, 1024 * 1024)]
    public int MemoryMiB { get; set; } = 512;

    /// <summary>
    /// Docker network mode: <c>host</c> (default) lets the agent reach an API bound to 127.0.0.1;
    /// <c>bridge</c> gives internet egress where the API is reachable from the bridge; <c>none</c> cuts the network.
    /// </summary>
    [Required]
    public string NetworkMode { get; set; } = "host";

    /// <summary>Engine address: <c>unix:///var/run/docker.sock</c> (default) or <c>tcp://host:port</c>.</summary>
    [Required]
    public string DockerEndpoint { get; set; } = "unix:///var/run/docker.sock";

    /// <summary>Time limit of <c>setup.sh</c> at each start, in seconds (passed as <c>RAWORC_SETUP_TIMEOUT</c>).</summary>
    [Range(1, 24 * 3600)]
    public int SetupTimeoutSeconds { get; set; } = 300;

    /// <summary>How long a new session may stay <c>init</c> before its agent reports ready, in seconds.</summary>
    [Range(1, 24 * 3600)]
    public int StartDeadlineSeconds { get; set; } = 60;

    /// <summary>
    /// Base URL agents use to reach the API; empty (the default) means this API process's own HTTP address,
    /// which a host-network container reaches on loopback.
    /// </summary>
    public string ApiUrl { get; set; } = "";

    /// <summary>
    /// Identity of this Raworc deployment, written as the <c>raworc.deployment</c> label on its containers and volumes;
    /// only those are listed and reconciled. Empty (the default) means the id the database holds (table
    /// <c>deployment</c>, made by the first migration), so every replica of one deployment agrees.
    /// </summary>
    public string Deployment { get; set; } = "";

    /// <summary>False disables computers entirely: work is queued but nobody carries it out (API-only tests, or a replica that serves only HTTP).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Most computers the deployment runs at once, counted as its live sessions (<c>init</c>, <c>idle</c>, <c>busy</c>);
    /// 0 (the default) means no limit. Creating, restoring or remixing past it is a 409 <c>CONFLICT</c>
    /// (see <see cref="Sessions.SessionQuotas"/>).
    /// </summary>
    [Range(0, 1_000_000)]
    public int Capacity { get; set; }

    /// <summary>How many work items one API process carries out at once.</summary>
    [Range(1, 64)]
    public int WorkConcurrency { get; set; } = 4;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Uri.TryCreate(DockerEndpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("unix" or "tcp" or "http" or "https" or "npipe"))
        {
            yield return new ValidationResult(
                "DockerEndpoint must be an absolute unix://, tcp://, http(s):// or npipe:// address.", [nameof(DockerEndpoint)]);
        }
    }
}
