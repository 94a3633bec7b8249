using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Connections.Features;
using Raworc.ApiService.Auth;
using Raworc.ApiService.Errors;

namespace Raworc.ApiService.Computers;

/// <summary>
/// The API's address for computers: a Unix socket whose folder is bind-mounted read-only at
/// <see cref="MountPath"/> in every computer, so the Host reaches the API with no network at all, and nothing but a
/// computer's Host can call through it. On the socket only endpoints marked <see cref="HostRouteAttribute"/> exist,
/// and only for a Host token; everything else is a 404 in the error envelope.
/// </summary>
public static class ComputerSocket
{
    /// <summary>Where the socket's folder appears inside a computer.</summary>
    public const string MountPath = "/run/raworc";

    /// <summary>The socket's file name, in its folder and under <see cref="MountPath"/>.</summary>
    public const string FileName = "api.sock";

    /// <summary>
    /// Adds the socket to the server's addresses (beside the configured HTTP ones) and records its path in
    /// <see cref="ComputerOptions.HostSocketPath"/>. Does nothing when computers are disabled or reach the API by
    /// <see cref="ComputerOptions.ApiUrl"/>. A stale socket file of an earlier run is removed.
    /// </summary>
    public static WebApplicationBuilder AddComputerSocket(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(ComputerOptions.Section);
        // Unix sockets bind-mounted into Linux containers: not a thing on a Windows host.
        if (OperatingSystem.IsWindows() || !section.GetValue(nameof(ComputerOptions.Enabled), true)
            || section[nameof(ComputerOptions.ApiUrl)] is { Length: > 0 })
        {
            return builder;
        }
        var path = section[nameof(ComputerOptions.HostSocketPath)] is { Length: > 0 } configured
            ? configured
            : DefaultPath(builder.Configuration.GetConnectionString(ResourceNames.Database) ?? "");
        var folder = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(folder);
        // Computers (another uid) must be able to enter the folder; nothing else is in it.
        File.SetUnixFileMode(folder, (UnixFileMode)0b111_101_101);
        File.Delete(path);

        var urls = builder.Configuration["urls"] is { Length: > 0 } given ? given
            : builder.Configuration["http_ports"] is { Length: > 0 } ports ? string.Join(';', ports.Split(';').Select(p => $"http://*:{p}"))
            : "http://localhost:5000";
        builder.WebHost.UseUrls($"{urls};http://unix:{path}");
        builder.Services.PostConfigure<ComputerOptions>(options => options.HostSocketPath = path);
        return builder;
    }

    /// <summary>
    /// Makes the socket connectable by the computers' user once the server listens, and puts the socket's route filter
    /// in the pipeline. Call after authentication.
    /// </summary>
    public static WebApplication UseComputerSocket(this WebApplication app)
    {
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var socket = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ComputerOptions>>().Value.HostSocketPath;
            if (!OperatingSystem.IsWindows() && socket.Length > 0 && File.Exists(socket))
            {
                // Kestrel creates it with the umask's mode; connecting needs write permission for the computer's uid.
                File.SetUnixFileMode(socket, (UnixFileMode)0b110_110_110);
            }
        });
        app.Use(FilterAsync);
        return app;
    }

    /// <summary>
    /// True when the request came through the computer socket: the API listens on no other Unix socket. Read from the
    /// connection's socket itself, not from its addresses, which forwarded-header handling could rewrite.
    /// </summary>
    public static bool IsFromComputer(this HttpContext context) =>
        context.Features.Get<IConnectionSocketFeature>() is { } feature
            ? feature.Socket.AddressFamily == System.Net.Sockets.AddressFamily.Unix
            : context.Connection.LocalIpAddress is null && context.Connection.RemoteIpAddress is null;

    private static Task FilterAsync(HttpContext context, RequestDelegate next)
    {
        if (!context.IsFromComputer())
        {
            return next(context);
        }
        var isHostRoute = context.GetEndpoint()?.Metadata.GetMetadata<HostRouteAttribute>() is not null;
        var isHost = context.User.Identity?.IsAuthenticated != true || context.User.FindFirst(RaworcClaims.SubjectType)?.Value == PrincipalTypes.Host;
        if (isHostRoute && isHost)
        {
            return next(context);
        }
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return context.Response.WriteAsJsonAsync(ApiErrors.Body(StatusCodes.Status404NotFound, "Not found."), context.RequestAborted);
    }

    /// <summary>One socket per deployment: the folder is named after a hash of the database it serves, so it stays put across restarts.</summary>
    private static string DefaultPath(string connectionString)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(connectionString)))[..16];
        return Path.Combine(Path.GetTempPath(), $"raworc-{hash}", FileName);
    }
}
