using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Raworc.ApiService.Computers;

/// <summary>The health check "docker": unhealthy while the computer provider's engine does not answer.</summary>
internal sealed class DockerHealthCheck(IComputerProvider computers, IOptions<ComputerOptions> options) : IHealthCheck
{
    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await computers.IsReachableAsync(cancellationToken)
            ? HealthCheckResult.Healthy()
            : new HealthCheckResult(context.Registration.FailureStatus, $"The Docker engine at {options.Value.DockerEndpoint} does not answer.");
}
