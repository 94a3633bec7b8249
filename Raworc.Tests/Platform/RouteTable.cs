using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Platform;

/// <summary>
/// The API's route table, built in the test process from the API's own code: every <c>builder.AddXxx()</c> and
/// <c>app.UseXxx()</c>/<c>app.MapXxx()</c> line of <c>Raworc.ApiService/Program.cs</c> that names one of Raworc's extension
/// methods is replayed on a new <see cref="WebApplication"/> (read from the file, so a route mapped there tomorrow is in the
/// table too). Nothing is started and nothing is connected to: the connection strings point nowhere.
/// </summary>
public static partial class RouteTable
{
    // What Program.cs does after mapping: start-up work against the database and the socket, not routes.
    private static readonly HashSet<string> NotReplayed = ["MigrateDatabaseAsync", "ListenForComputers", "RunAsync"];

    [GeneratedRegex(@"^\s*(builder|app)\.(\w+)\(\);\s*$", RegexOptions.Multiline)]
    private static partial Regex Call();

    /// <summary>Every endpoint the API maps, with its metadata (route pattern, methods, name, produced responses).</summary>
    public static IReadOnlyList<RouteEndpoint> Build()
    {
        var program = File.ReadAllText(Path.Combine(Repository.Root, "Raworc.ApiService", "Program.cs"));
        var calls = Call().Matches(program).Select(m => (Target: m.Groups[1].Value, Method: m.Groups[2].Value))
            .Where(c => !NotReplayed.Contains(c.Method)).ToList();
        Assert.Contains(calls, c => c.Method == "MapSessionApis");

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{ResourceNames.Database}"] = "Host=127.0.0.1;Port=1;Database=none;Username=none;Password=none",
            [$"ConnectionStrings:{ResourceNames.Redis}"] = "127.0.0.1:1,abortConnect=false",
            ["Jwt:SigningKey"] = RaworcAppFixture.JwtSigningKey,
        });
        foreach (var call in calls.Where(c => c.Target == "builder"))
        {
            Invoke(call.Method, builder);
        }
        var app = builder.Build();
        foreach (var call in calls.Where(c => c.Target == "app"))
        {
            Invoke(call.Method, app);
        }
        return ((IEndpointRouteBuilder)app).DataSources.SelectMany(source => source.Endpoints).OfType<RouteEndpoint>().ToList();
    }

    // Calls Raworc's extension method of that name on the target; the framework's own (UseAuthentication …) add no routes.
    private static void Invoke(string name, object target)
    {
        var method = typeof(Raworc.ApiService.Errors.ErrorMetadata).Assembly.GetTypes().Concat(typeof(ServiceDefaultsExtensions).Assembly.GetTypes())
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static))
            .Where(m => m.Name == name && m.GetParameters().Length == 1)
            .Select(m => m.IsGenericMethodDefinition ? m.MakeGenericMethod(target.GetType()) : m)
            .FirstOrDefault(m => m.GetParameters()[0].ParameterType.IsInstanceOfType(target));
        if (method is null)
        {
            Assert.StartsWith("Use", name);
            return;
        }
        method.Invoke(null, [target]);
    }

    /// <summary>The OpenAPI path of a route: <c>/api/v0/sessions/</c> → <c>/api/v0/sessions</c>.</summary>
    public static string DocumentPath(this RouteEndpoint endpoint)
    {
        // The document names a parameter without its route constraint: {id:guid} is {id} there.
        var path = "/" + endpoint.RoutePattern.RawText!.Trim('/');
        return System.Text.RegularExpressions.Regex.Replace(path, @"\{([^}:]+):[^}]+\}", "{$1}");
    }

    /// <summary>The endpoint's HTTP methods, lower case as in the document.</summary>
    public static IEnumerable<string> Methods(this RouteEndpoint endpoint) =>
        endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Select(m => m.ToLowerInvariant()) ?? [];
}
