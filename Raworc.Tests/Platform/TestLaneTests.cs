using System.Reflection;
using Raworc.Tests.Computers;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Platform;

/// <summary>
/// Every test class's lane mark agrees with its fixture: <c>eng/test.sh</c> runs the classes whose systems run computers
/// (<see cref="ComputerLaneAttribute"/>) in a process of their own beside the rest, so a class left unmarked would start
/// its computers in the lane that assumes none, and a marked one without computers would only lengthen the longer lane.
/// </summary>
public sealed class TestLaneTests
{
    [Fact]
    public void EveryClassWhoseFixtureRunsComputersIsInTheComputersLaneAndNoOtherIs()
    {
        var assembly = typeof(TestLaneTests).Assembly;
        var collections = assembly.GetTypes()
            .Select(type => (type, name: NameIn<CollectionDefinitionAttribute>(type)))
            .Where(pair => pair.name is not null)
            .ToDictionary(pair => pair.name!, pair => FixturesOf(pair.type, typeof(ICollectionFixture<>)));
        var testClasses = assembly.GetTypes().Where(type => type.GetMethods().Any(method =>
            method.GetCustomAttribute<FactAttribute>(inherit: true) is not null));

        var disagreeing = new List<string>();
        foreach (var type in testClasses)
        {
            var fixtures = FixturesOf(type, typeof(IClassFixture<>)).ToList();
            if (NameIn<CollectionAttribute>(type) is { } name && collections.TryGetValue(name, out var shared))
            {
                fixtures.AddRange(shared);
            }
            var runsComputers = fixtures.Any(fixture =>
                typeof(ComputersAppFixture).IsAssignableFrom(fixture) || fixture == typeof(ComputerFixture));
            var marked = type.GetCustomAttribute<ComputerLaneAttribute>() is not null;
            if (runsComputers != marked)
            {
                disagreeing.Add($"{type.FullName}: fixture runs computers {runsComputers}, marked {marked}");
            }
        }

        Assert.Equal("", string.Join("\n", disagreeing));
        Assert.Equal(23, testClasses.Count(type => type.GetCustomAttribute<ComputerLaneAttribute>() is not null));
    }

    private static IEnumerable<Type> FixturesOf(Type type, Type fixtureInterface) => type.GetInterfaces()
        .Where(face => face.IsGenericType && face.GetGenericTypeDefinition() == fixtureInterface)
        .Select(face => face.GetGenericArguments()[0]);

    /// <summary>
    /// The collection name <paramref name="type"/>'s <c>[Collection]</c> or <c>[CollectionDefinition]</c> gives, if it has one
    /// (xUnit 2 keeps it only as the attribute's constructor argument).
    /// </summary>
    private static string? NameIn<TAttribute>(Type type) where TAttribute : Attribute => type.GetCustomAttributesData()
        .FirstOrDefault(attribute => attribute.AttributeType == typeof(TAttribute))?.ConstructorArguments[0].Value as string;
}
