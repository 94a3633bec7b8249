using Xunit.Abstractions;
using Xunit.Sdk;

namespace Raworc.Tests.Infrastructure;

/// <summary>Runs a class's tests in the order of their method names: for a class whose last test breaks its shared system.</summary>
public sealed class AlphabeticalOrderer : ITestCaseOrderer
{
    /// <summary>The orderer's type name, for <see cref="TestCaseOrdererAttribute"/>.</summary>
    public const string TypeName = "Raworc.Tests.Infrastructure.AlphabeticalOrderer";

    /// <summary>The assembly's name, for <see cref="TestCaseOrdererAttribute"/>.</summary>
    public const string AssemblyName = "Raworc.Tests";

    /// <inheritdoc />
    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases) where TTestCase : ITestCase =>
        testCases.OrderBy(t => t.TestMethod.Method.Name, StringComparer.Ordinal);
}
