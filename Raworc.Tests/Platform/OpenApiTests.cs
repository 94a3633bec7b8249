using System.Net;
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
}
