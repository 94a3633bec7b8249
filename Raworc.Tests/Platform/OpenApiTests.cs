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
}
