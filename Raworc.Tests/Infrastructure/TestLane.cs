using Xunit.Abstractions;
using Xunit.Sdk;

namespace Raworc.Tests.Infrastructure;

/// <summary>
/// Marks a test class whose system runs session computers (its fixture is a <see cref="ComputersAppFixture"/> or the
/// engine-level <see cref="Computers.ComputerFixture"/>): it gets the trait <c>Lane=computers</c>. <c>eng/test.sh</c> runs
/// <c>Lane=computers</c> and <c>Lane!=computers</c> as two test processes at the same time, so the systems with computers
/// (mostly waiting on containers and agents) and the rest (mostly the API's CPU) share the machine's cores.
/// <see cref="Platform.TestLaneTests"/> fails when a class's mark and its fixture disagree.
/// </summary>
[TraitDiscoverer("Raworc.Tests.Infrastructure.ComputerLaneDiscoverer", "Raworc.Tests")]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class ComputerLaneAttribute : Attribute, ITraitAttribute
{
    /// <summary>The trait's name.</summary>
    public const string Trait = "Lane";

    /// <summary>The trait's value for the classes marked.</summary>
    public const string Computers = "computers";
}

/// <summary>Turns <see cref="ComputerLaneAttribute"/> into the trait <c>Lane=computers</c>.</summary>
public sealed class ComputerLaneDiscoverer : ITraitDiscoverer
{
    /// <summary>The one trait, always the same.</summary>
    public IEnumerable<KeyValuePair<string, string>> GetTraits(IAttributeInfo traitAttribute)
    {
        yield return new(ComputerLaneAttribute.Trait, ComputerLaneAttribute.Computers);
    }
}
