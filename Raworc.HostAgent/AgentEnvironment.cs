namespace Raworc.HostAgent;

/// <summary>
/// The variables the agent is configured by: the process environment, with values handed over in memory (the Host
/// token of a warm-pool claim) taking precedence. Names are exact (case-sensitive, as Linux's environment is); an empty
/// value reads as set-but-empty, a missing one as null. No configuration framework: a lookup is all the agent needs.
/// </summary>
public sealed class AgentEnvironment
{
    private readonly Func<string, string?> _lookup;

    private AgentEnvironment(Func<string, string?> lookup) => _lookup = lookup;

    /// <summary>The value of the variable <paramref name="name"/>, or null when it is not set.</summary>
    public string? this[string name] => _lookup(name);

    /// <summary>This process's environment, with <paramref name="overrides"/> (values kept in memory only) read first.</summary>
    /// <param name="overrides">Name → value pairs that win over the environment; none when null.</param>
    public static AgentEnvironment FromProcess(IReadOnlyDictionary<string, string>? overrides = null) =>
        new(name => overrides is not null && overrides.TryGetValue(name, out var value) ? value : Environment.GetEnvironmentVariable(name));

    /// <summary>Fixed values (tests, tools): a name missing from <paramref name="values"/> is not set.</summary>
    public static AgentEnvironment From(IReadOnlyDictionary<string, string?> values) =>
        new(name => values.TryGetValue(name, out var value) ? value : null);
}
