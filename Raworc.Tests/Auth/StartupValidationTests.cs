using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Auth;

namespace Raworc.Tests.Auth;

/// <summary>The signing key is checked when the API starts, without serving anything.</summary>
public sealed class StartupValidationTests
{
    private static void Validate(string? signingKey)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Jwt:SigningKey"] = signingKey });
        builder.AddRaworcAuth();
        using var app = builder.Build();
        app.Services.GetRequiredService<IStartupValidator>().Validate();
    }

    [Theory]
    [InlineData(null, "Jwt:SigningKey is required (the AppHost parameter jwt-signing-key).")]
    [InlineData("too-short-key", "Jwt:SigningKey must be at least 32 bytes (the AppHost parameter jwt-signing-key).")]
    public void AMissingOrShortSigningKeyStopsStartUpWithAClearMessage(string? key, string message)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Validate(key));
        Assert.Contains(error.Failures, failure => failure.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void AThirtyTwoByteKeyIsAccepted() => Validate(new string('k', 32));
}
