using Microsoft.AspNetCore.Http.HttpResults;
using Raworc.ApiService.Errors;

namespace Raworc.ApiService.Platform;

/// <summary>
/// Collects the problems of a request's values (field → problems) for one 422 <c>VALIDATION_ERROR</c>,
/// so a caller learns of every bad field at once. Handlers return <see cref="ToResult"/>; nothing throws it.
/// </summary>
public sealed class Validation
{
    private readonly Dictionary<string, List<string>> _problems = [];

    /// <summary>True when no problem was recorded.</summary>
    public bool IsValid => _problems.Count == 0;

    /// <summary>Records a problem with <paramref name="field"/> (the wire name).</summary>
    public Validation Add(string field, string problem)
    {
        if (!_problems.TryGetValue(field, out var list))
        {
            _problems[field] = list = [];
        }
        list.Add(problem);
        return this;
    }

    /// <summary>Records <paramref name="problem"/> when <paramref name="failed"/> is true.</summary>
    public Validation When(bool failed, string field, string problem) => failed ? Add(field, problem) : this;

    /// <summary>The problems as the envelope's <c>details</c>.</summary>
    public IReadOnlyDictionary<string, string[]> Details => _problems.ToDictionary(p => p.Key, p => p.Value.ToArray());

    /// <summary>
    /// The 422 result carrying every recorded problem. Handlers return it (<c>if (!validation.IsValid) return
    /// validation.ToResult();</c>) with <c>UnprocessableEntity&lt;ErrorResponse&gt;</c> in their <c>Results&lt;…&gt;</c>, so
    /// the OpenAPI document lists the 422.
    /// </summary>
    public UnprocessableEntity<ErrorResponse> ToResult() => ApiErrors.Validation(Details);
}
