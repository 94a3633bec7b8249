using Microsoft.AspNetCore.Identity;

namespace Raworc.ApiService.Operators;

/// <summary>Registers operator services.</summary>
public static class OperatorExtensions
{
    /// <summary>Registers the password hasher (ASP.NET Core Identity's PBKDF2) and the login service.</summary>
    public static WebApplicationBuilder AddOperators(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IPasswordHasher<Operator>, PasswordHasher<Operator>>();
        builder.Services.AddScoped<Auth.OperatorLogin>();
        return builder;
    }
}
