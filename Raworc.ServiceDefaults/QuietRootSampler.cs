using System.Diagnostics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Decides which spans that start a trace are kept: an outgoing call (<see cref="ActivityKind.Client"/>: a database
/// query, a Redis command, a Docker or HTTP call) that no request and no unit of work started is dropped; everything
/// else is kept. Wrapped in <see cref="ParentBasedSampler"/>, so a span inside a kept trace is kept. A background loop's
/// idle poll therefore leaves no trace, while a loop that does work starts an activity of its own first (the work is then
/// one trace, its queries inside it) and a request keeps its whole tree (request → Postgres → Redis → Docker).
/// </summary>
public sealed class QuietRootSampler : Sampler
{
    private static readonly SamplingResult Keep = new(SamplingDecision.RecordAndSample);
    private static readonly SamplingResult Drop = new(SamplingDecision.Drop);

    /// <summary>The sampler as the service defaults install it: parent-based, with this one deciding for roots.</summary>
    public static Sampler ParentBased() => new ParentBasedSampler(new QuietRootSampler());

    /// <inheritdoc />
    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
        samplingParameters.Kind == ActivityKind.Client ? Drop : Keep;
}
