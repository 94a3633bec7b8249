using System.Net;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Platform;

[Collection(RaworcAppCollection.Name)]
public sealed class PlatformTests(RaworcAppFixture fixture)
{
    [Fact]
    public async Task VersionAnswersWithTheVersionAndApiGeneration()
    {
        using var client = fixture.CreateApiClient();
        var response = await client.GetAsync("/api/v0/version");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.ReadObjectAsync();
        Assert.Equal("0.1.0", (string?)body["version"]);
        Assert.Equal("v0", (string?)body["api"]);
        Assert.Equal(2, body.Count);
    }

    [Fact]
    public async Task UnknownRouteAnswersNotFoundInTheEnvelope()
    {
        using var client = fixture.CreateApiClient();
        var response = await client.GetAsync("/api/v0/no-such-thing");

        var error = await response.AssertErrorAsync(404, "NOT_FOUND");
        Assert.Equal("Resource not found.", (string?)error["message"]);
    }

    [Fact]
    public async Task WrongMethodAnswersMethodNotAllowedInTheEnvelope()
    {
        using var client = fixture.CreateApiClient();
        var response = await client.DeleteAsync("/api/v0/version");

        await response.AssertErrorAsync(405, "METHOD_NOT_ALLOWED");
    }

    [Fact]
    public async Task HealthAndAliveAreHealthy()
    {
        using var client = fixture.CreateApiClient();

        foreach (var path in new[] { "/health", "/alive" })
        {
            var response = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
        }
    }
}
