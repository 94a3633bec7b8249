using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Raworc.ApiService.Errors;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Platform;

[Collection(RaworcAppCollection.Name)]
public sealed class OpenApiTests(RaworcAppFixture fixture)
{
    [Fact]
    public async Task TheOpenApiDocumentDescribesTheBearerSchemeAndNamesOperations()
    {
        using var client = fixture.CreateApiClient();
        var response = await client.GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = await response.ReadObjectAsync();
        var bearer = document["components"]!["securitySchemes"]!["Bearer"]!;
        Assert.Equal("http", (string?)bearer["type"]);
        Assert.Equal("bearer", (string?)bearer["scheme"]);
        Assert.Equal("CreateSession", (string?)document["paths"]!["/api/v0/sessions"]!["post"]!["operationId"]);
        Assert.Equal("Login", (string?)document["paths"]!["/api/v0/auth/login"]!["post"]!["operationId"]);
    }

    [Theory]
    [InlineData("/api/v0/sessions", "post")]
    [InlineData("/api/v0/sessions/{id}", "put")]
    [InlineData("/api/v0/sessions/{id}/restore", "post")]
    [InlineData("/api/v0/sessions/{id}/remix", "post")]
    [InlineData("/api/v0/sessions/{id}/state", "put")]
    [InlineData("/api/v0/sessions/{id}/messages", "post")]
    [InlineData("/api/v0/operators", "post")]
    [InlineData("/api/v0/auth/token", "post")]
    public async Task EveryValidatingOperationDocumentsItsValidationError(string path, string method)
    {
        using var client = fixture.CreateApiClient();
        var document = await (await client.GetAsync("/openapi/v1.json")).ReadObjectAsync();
        var responses = document["paths"]![path]![method]!["responses"]!.AsObject();
        Assert.Equal("#/components/schemas/ErrorResponse",
            (string?)responses["422"]?["content"]?["application/json"]?["schema"]?["$ref"]);
    }

    // The error statuses docs/API.md gives each operation (besides 401 and 429, which every authenticated route has).
    private static readonly Dictionary<string, int[]> DocumentedErrors = new()
    {
        ["Login"] = [400, 401, 413, 415, 422, 429],
        ["LoginOperator"] = [400, 401, 413, 415, 422, 429],
        ["GetAuth"] = [],
        ["CreateToken"] = [400, 403, 404, 413, 415, 422],
        ["ListOperators"] = [400, 403],
        ["CreateOperator"] = [400, 403, 409, 413, 415, 422],
        ["GetOperator"] = [403, 404],
        ["UpdateOperator"] = [400, 403, 404, 409, 413, 415, 422],
        ["DeleteOperator"] = [400, 403, 404, 409],
        ["ChangeOperatorPassword"] = [400, 403, 404, 413, 415, 422],
        ["RevokeOperatorTokens"] = [403, 404],
        ["ListSessions"] = [400, 403],
        ["CreateSession"] = [400, 403, 409, 413, 415, 422],
        ["GetSession"] = [404],
        ["UpdateSession"] = [400, 403, 404, 409, 413, 415, 422],
        ["DeleteSession"] = [403, 404],
        ["CloseSession"] = [403, 404, 409],
        ["RestoreSession"] = [400, 403, 404, 409, 413, 415, 422],
        ["RemixSession"] = [400, 403, 404, 409, 413, 415, 422],
        ["PublishSession"] = [400, 403, 404, 413, 415],
        ["UnpublishSession"] = [403, 404],
        ["MarkSessionBusy"] = [403, 404, 409],
        ["MarkSessionIdle"] = [403, 404, 409],
        ["ChangeSessionState"] = [400, 403, 404, 409, 413, 415, 422],
        ["ListMessages"] = [400, 404],
        ["PostMessage"] = [400, 403, 404, 409, 413, 415, 422],
        ["CountMessages"] = [404],
        ["ClearMessages"] = [403, 404, 409],
        ["ListPublishedSessions"] = [400],
        ["GetPublishedSession"] = [404],
        ["GetVersion"] = [],
    };

    // Routes the document leaves out on purpose: health probes, the document and its page, and the model gateway (a
    // pass-through of the providers' own APIs for the Host agent, described in the README), and the warm pool's claim
    // route (only a pooled computer's agent may call it; see README "Warm pool"), and the cold start's boot exchange (only a
    // computer's agent, with its one-time ticket; README "How a computer gets its Host token").
    private static readonly string[] Undocumented = ["/health", "/alive", "/openapi/", "/scalar", "/api/v0/sessions/{id}/model/", "/api/v0/pool/claim",
        "/api/v0/boot"];

    [Fact]
    public async Task EveryMappedRouteIsInTheDocumentWithItsErrorResponsesInTheEnvelope()
    {
        using var client = fixture.CreateApiClient();
        var document = await (await client.GetAsync("/openapi/v1.json")).ReadObjectAsync();
        var endpoints = RouteTable.Build();

        var failures = new List<string>();
        var checkedOperations = 0;
        foreach (var endpoint in endpoints)
        {
            var path = endpoint.DocumentPath();
            if (endpoint.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is { ExcludeFromDescription: true }
                || !endpoint.Methods().Any())
            {
                if (!Undocumented.Any(prefix => path.StartsWith(prefix, StringComparison.Ordinal)))
                {
                    failures.Add($"{path} is mapped but left out of the document");
                }
                continue;
            }
            var name = endpoint.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName;
            var authenticated = endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null
                && endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Any();
            var expected = new SortedSet<int>(endpoint.DeclaredErrors());
            if (authenticated)
            {
                expected.UnionWith(ErrorMetadata.Authenticated);
            }
            if (name is not null && DocumentedErrors.TryGetValue(name, out var documented))
            {
                var undeclared = documented.Except(expected).ToList();
                if (undeclared.Count > 0)
                {
                    failures.Add($"{name}: docs/API.md gives {string.Join(", ", undeclared)}, the route does not declare it");
                }
            }
            else if (expected.Count == 0 && authenticated)
            {
                failures.Add($"{name ?? path}: declares no error response");
            }

            foreach (var method in endpoint.Methods())
            {
                checkedOperations++;
                if (document["paths"]?[path]?[method] is not JsonObject operation)
                {
                    failures.Add($"{method.ToUpperInvariant()} {path} ({name}) is not in the document");
                    continue;
                }
                Assert.Equal(name, (string?)operation["operationId"]);
                foreach (var status in expected)
                {
                    var schema = (string?)operation["responses"]?[status.ToString()]?["content"]?["application/json"]?["schema"]?["$ref"];
                    if (schema != "#/components/schemas/ErrorResponse")
                    {
                        failures.Add($"{name}: response {status} is {(schema is null ? "missing" : schema)}, not the error envelope");
                    }
                }
            }
        }
        Assert.True(checkedOperations >= DocumentedErrors.Count, $"only {checkedOperations} operations were mapped");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task TheDocumentSaysV0NamesPagingAsOnTheWireAndShowsExamples()
    {
        using var client = fixture.CreateApiClient();
        var document = await (await client.GetAsync("/openapi/v1.json")).ReadObjectAsync();

        Assert.Equal("v0", (string?)document["info"]!["version"]);
        Assert.Equal("Raworc API", (string?)document["info"]!["title"]);
        var parameters = document["paths"]!["/api/v0/sessions"]!["get"]!["parameters"]!.AsArray()
            .Select(p => (string)p!["name"]!).Order(StringComparer.Ordinal);
        Assert.Equal(["after", "limit", "offset", "state"], parameters);
        var schemas = document["components"]!["schemas"]!;
        Assert.Equal("raworc-admin-dev", (string?)schemas["LoginRequest"]!["examples"]![0]!["pass"]);
        Assert.Equal("Write hello.txt", (string?)schemas["CreateSessionRequest"]!["examples"]![0]!["prompt"]);
        Assert.Equal("and now list /session/data", (string?)schemas["PostMessageRequest"]!["examples"]![0]!["content"]);
        Assert.Equal("idle", (string?)schemas["SessionResponse"]!["examples"]![0]!["state"]);
        Assert.Equal("bash", (string?)schemas["MessageResponse"]!["examples"]![0]!["metadata"]!["tool_type"]);
        Assert.Equal("NOT_FOUND", (string?)schemas["ErrorResponse"]!["examples"]![0]!["error"]!["code"]);
    }

    [Fact]
    public async Task SessionsShowTheirDesktopWhileThePublishedViewKeepsToTheContractsFields()
    {
        using var client = fixture.CreateApiClient();
        var schemas = (await (await client.GetAsync("/openapi/v1.json")).ReadObjectAsync())["components"]!["schemas"]!;
        string[] Properties(string schema) => [.. schemas[schema]!["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal)];

        Assert.Contains("desktop", Properties("SessionResponse"));
        // spec/API.md "Published sessions": the view carries only these; whether a published session has a desktop is in
        // GET /sessions/{id}, which any authenticated caller may read for it.
        Assert.Equal(["created_at", "created_by", "id", "metadata", "name", "publish_permissions", "published_at", "published_by", "state"],
            Properties("PublishedSessionResponse"));
        Assert.Contains("trace_parent", Properties("MessageResponse"));
    }

    [Fact]
    public async Task TheReferencePageIsServedWithoutATokenAndReadsTheDocument()
    {
        using var client = fixture.CreateApiClient();
        var response = await client.GetAsync("/scalar/v1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var page = await response.Content.ReadAsStringAsync();
        Assert.True(page.Contains("openapi/v1.json", StringComparison.Ordinal), page);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/scalar/scalar.js")).StatusCode);
    }
}
