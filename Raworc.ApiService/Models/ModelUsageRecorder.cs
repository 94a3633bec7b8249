using Microsoft.EntityFrameworkCore;

namespace Raworc.ApiService.Models;

/// <summary>Adds one answered model call and its tokens to a session's usage columns.</summary>
public static class ModelUsageRecorder
{
    /// <summary>How long recording may take; it runs after the caller may have gone, so it has its own deadline.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    /// <summary>
    /// One statement (<c>UPDATE sessions SET usage_model_calls = usage_model_calls + 1, …</c>), so concurrent calls of one
    /// session never lose a count. A figure the answer did not carry adds 0. A deleted session updates nothing.
    /// </summary>
    /// <param name="db">The request's context.</param>
    /// <param name="sessionId">The session.</param>
    /// <param name="usage">The answer's figures.</param>
    public static async Task AddAsync(RaworcDbContext db, Guid sessionId, ModelUsage usage)
    {
        var input = usage.InputTokens ?? 0;
        var output = usage.OutputTokens ?? 0;
        using var deadline = new CancellationTokenSource(Deadline);
        await db.Sessions.Where(s => s.Id == sessionId).ExecuteUpdateAsync(set => set
            .SetProperty(s => s.UsageModelCalls, s => s.UsageModelCalls + 1)
            .SetProperty(s => s.UsageInputTokens, s => s.UsageInputTokens + input)
            .SetProperty(s => s.UsageOutputTokens, s => s.UsageOutputTokens + output), deadline.Token);
    }
}
