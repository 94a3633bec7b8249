using Xunit.Abstractions;
using Xunit.Sdk;

namespace Raworc.Tests.Infrastructure;

/// <summary>
/// The computer provider the tests over real computers run their system with: the environment variable
/// <c>RAWORC_TEST_PROVIDER</c> (<c>bash eng/test.sh --provider swarm</c> sets it to <c>swarm</c>), else <c>docker</c>.
/// Under <c>swarm</c>, <see cref="ComputersAppFixture"/> and every fixture derived from it bring up the test cluster of
/// <c>eng/swarm-cluster.sh</c> (named by <c>RAWORC_SWARM_NAME</c>) and give the API <c>Computers:Provider=swarm</c>.
/// </summary>
public static class TestProvider
{
    /// <summary><c>docker</c> or <c>swarm</c> (the names of <c>Computers:Provider</c>).</summary>
    public static string Name { get; } = Environment.GetEnvironmentVariable("RAWORC_TEST_PROVIDER") is { Length: > 0 } name
        ? name.ToLowerInvariant() : "docker";

    /// <summary>Whether the computer tests run on the Swarm test cluster.</summary>
    public static bool IsSwarm => Name == "swarm";
}

/// <summary>
/// Marks a test (or a class of them) whose subject exists on one computer provider only, with the reason: it gets the trait
/// <c>OnlyProvider=&lt;provider&gt;</c>, which <c>eng/test.sh --provider</c>'s filter leaves out of the other provider's
/// pass (the plain pass runs everything: the Swarm tests bring up their own cluster). The reason is for the reader and the
/// report; the filter is what keeps the test out.
/// </summary>
/// <param name="provider">The provider the subject exists on: <c>docker</c> or <c>swarm</c>.</param>
/// <param name="reason">Why the subject does not exist on the other provider.</param>
[TraitDiscoverer("Raworc.Tests.Infrastructure.OnlyProviderDiscoverer", "Raworc.Tests")]
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false)]
public sealed class OnlyProviderAttribute(string provider, string reason) : Attribute, ITraitAttribute
{
    /// <summary>The trait's name.</summary>
    public const string Trait = "OnlyProvider";

    /// <summary>The provider the subject exists on.</summary>
    public string Provider { get; } = provider;

    /// <summary>Why the subject does not exist on the other provider.</summary>
    public string Reason { get; } = reason;
}

/// <summary>Turns <see cref="OnlyProviderAttribute"/> into the trait <c>OnlyProvider=&lt;provider&gt;</c>.</summary>
public sealed class OnlyProviderDiscoverer : ITraitDiscoverer
{
    /// <summary>The one trait, from the attribute's first constructor argument.</summary>
    public IEnumerable<KeyValuePair<string, string>> GetTraits(IAttributeInfo traitAttribute)
    {
        var arguments = traitAttribute.GetConstructorArguments().ToList();
        yield return new(OnlyProviderAttribute.Trait, (string)arguments[0]);
    }
}
