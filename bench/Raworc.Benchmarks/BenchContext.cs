using Raworc.Tests.Infrastructure;

namespace Raworc.Benchmarks;

/// <summary>What every phase works with: the started system, the operator's API calls and its token.</summary>
internal sealed record BenchContext(ComputersAppFixture Fixture, BenchApi Api, Uri BaseAddress, string Token)
{
    /// <summary>How often a waiting phase polls a session; small, so the poll adds little to the figures.</summary>
    public static readonly TimeSpan FastPoll = TimeSpan.FromMilliseconds(20);

    public static readonly TimeSpan StateTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Idle timeout of the sessions a phase keeps; long enough that none closes during the run.</summary>
    public const int KeepTimeoutSeconds = 1800;
}
