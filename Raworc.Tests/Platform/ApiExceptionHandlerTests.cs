using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Raworc.ApiService.Errors;

namespace Raworc.Tests.Platform;

/// <summary>Unit tests of the one place exceptions become responses.</summary>
public sealed class ApiExceptionHandlerTests
{
    private static async Task<(int Status, JsonObject Body)> HandleAsync(Exception exception)
    {
        var context = new DefaultHttpContext();
        context.Response.Body = new MemoryStream();
        Assert.True(await new ApiExceptionHandler(NullLogger<ApiExceptionHandler>.Instance).TryHandleAsync(context, exception, CancellationToken.None));
        context.Response.Body.Position = 0;
        return (context.Response.StatusCode, JsonNode.Parse(context.Response.Body)!.AsObject());
    }

    [Theory]
    [InlineData(PostgresErrorCodes.CharacterNotInRepertoire)]
    [InlineData(PostgresErrorCodes.UntranslatableCharacter)]
    public async Task TextTheDatabaseRefusesIsAValidationErrorNotAFailure(string sqlState)
    {
        var refused = new PostgresException("invalid byte sequence for encoding \"UTF8\": 0x00", "ERROR", "ERROR", sqlState);
        var (status, body) = await HandleAsync(new DbUpdateException("save failed", refused));

        Assert.Equal(422, status);
        Assert.Equal("VALIDATION_ERROR", (string?)body["error"]!["code"]);
        Assert.Equal("must not contain the NUL character (U+0000)", (string?)body["error"]!["details"]!["body"]![0]);
        Assert.DoesNotContain("UTF8", body.ToJsonString());
    }

    [Fact]
    public async Task TextTheDatabaseRefusesDeepInTheChainIsStillAValidationError()
    {
        // A PostgresException is an NpgsqlException: found only one level down, a wrapped refusal was answered 503
        // (unavailable, try again), and a client that retries would send the same text again.
        var refused = new PostgresException("invalid byte sequence for encoding \"UTF8\": 0x00", "ERROR", "ERROR", PostgresErrorCodes.UntranslatableCharacter);
        var (status, body) = await HandleAsync(new InvalidOperationException("wrapped", new DbUpdateException("save failed", refused)));

        Assert.Equal(422, status);
        Assert.Equal("must not contain the NUL character (U+0000)", (string?)body["error"]!["details"]!["body"]![0]);
    }

    [Fact]
    public async Task OtherDatabaseFailuresStayUnavailable()
    {
        var (status, body) = await HandleAsync(new PostgresException("connection lost", "FATAL", "FATAL", PostgresErrorCodes.AdminShutdown));
        Assert.Equal(503, status);
        Assert.Equal("SERVICE_UNAVAILABLE", (string?)body["error"]!["code"]);
    }

    [Fact]
    public async Task BinderTextNeverReachesTheCaller()
    {
        var (status, body) = await HandleAsync(new BadHttpRequestException("Failed to bind parameter \"Nullable<int> Limit\" from \"abc\"."));
        Assert.Equal(400, status);
        Assert.Equal("""{"error":{"code":"BAD_REQUEST","message":"The request is malformed."}}""", body.ToJsonString());
    }
}
