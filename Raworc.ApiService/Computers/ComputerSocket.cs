using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Raworc.ApiService.Auth;
using Raworc.ApiService.Errors;

namespace Raworc.ApiService.Computers;

/// <summary>
/// The API's address for computers: a Unix socket whose folder is bind-mounted read-only at
/// <see cref="MountPath"/> in every computer, so the Host reaches the API with no network at all, and nothing but a
/// computer's Host can call through it. On the socket only endpoints marked <see cref="HostRouteAttribute"/> exist,
/// and only for a Host token, plus the warm pool's claim route (<see cref="PoolRouteAttribute"/>) for a pool token and the
/// cold start's boot exchange (<see cref="BootRouteAttribute"/>), whose one-time ticket is its credential; everything
/// else is a 404 in the error envelope. Computers on other machines, which reach the API by
/// <see cref="ComputerOptions.ApiUrl"/>, get the same filter on a TCP port of their own
/// (<see cref="ComputerOptions.ComputerPort"/>), never the API's HTTP port.
/// </summary>
public static class ComputerSocket
{
    /// <summary>Where the socket's folder appears inside a computer.</summary>
    public const string MountPath = "/run/raworc";

    /// <summary>The socket's file name, in its folder and under <see cref="MountPath"/>.</summary>
    public const string FileName = "api.sock";

    /// <summary>
    /// Records the socket's path in <see cref="ComputerOptions.HostSocketPath"/>: the configured one, else one named after
    /// the deployment id (see <see cref="DefaultPath"/>). Does nothing when computers are disabled or reach the API by
    /// <see cref="ComputerOptions.ApiUrl"/>. The server listens on it once <see cref="ListenForComputers"/> has run.
    /// With <see cref="ComputerOptions.ComputerPort"/> set, also prepares that port (its connection bound), socket or not.
    /// </summary>
    public static WebApplicationBuilder AddComputerSocket(this WebApplicationBuilder builder)
    {
        builder.AddComputerPort();
        if (!UsesSocket(builder.Configuration))
        {
            return builder;
        }
        // Read after start-up's migrations, which load the deployment id (see DeploymentIdentity).
        builder.Services.AddOptions<ComputerOptions>().PostConfigure<DeploymentIdentity>((options, identity) =>
        {
            if (options.HostSocketPath.Length == 0)
            {
                options.HostSocketPath = DefaultPath(options.Deployment is { Length: > 0 } deployment ? deployment : identity.Id);
            }
        });
        // Each Unix endpoint (the API listens on no other) gets the per-computer connection bound.
        var settings = builder.Configuration.GetSection(ComputerOptions.Section).Get<ComputerOptions>() ?? new ComputerOptions();
        var limit = new SocketConnectionLimit(settings.SocketConnectionsPerComputer, settings.SocketConnections);
        builder.Services.AddSingleton(limit);
        builder.Services.AddSingleton<ComputerSocketKeeper>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ComputerSocketKeeper>());
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(endpoint =>
        {
            if (endpoint.SocketPath is not null)
            {
                endpoint.Use(limit.Wrap);
            }
        }));
        return builder;
    }

    /// <summary>
    /// With <see cref="ComputerOptions.ComputerPort"/> set: records the port (<see cref="ComputerPortListener"/>) and bounds its
    /// connections per source address (<see cref="SocketConnectionLimit.PerAddress"/>, counted in this process); with
    /// <see cref="ComputerOptions.ComputerPortShared"/> on Linux, binds it with SO_REUSEPORT (<see cref="BindShared"/>), so the
    /// API's replicas on one machine all listen on it; <see cref="ListenForComputers"/> opens it.
    /// </summary>
    private static void AddComputerPort(this WebApplicationBuilder builder)
    {
        var port = ComputerPortOf(builder.Configuration);
        if (port <= 0)
        {
            return;
        }
        var settings = builder.Configuration.GetSection(ComputerOptions.Section).Get<ComputerOptions>() ?? new ComputerOptions();
        var limit = SocketConnectionLimit.PerAddress(settings.ComputerPortConnectionsPerAddress, settings.SocketConnections);
        builder.Services.AddSingleton(new ComputerPortListener(port, limit));
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(endpoint =>
        {
            if (endpoint.IPEndPoint?.Port == port)
            {
                endpoint.Use(limit.Wrap);
            }
        }));
        if (settings.ComputerPortShared && OperatingSystem.IsLinux())
        {
            // Only the computer port's sockets: every other address keeps Kestrel's own (a port in use stops start-up).
            builder.Services.Configure<SocketTransportOptions>(transport =>
            {
                var bind = transport.CreateBoundListenSocket;
                transport.CreateBoundListenSocket = address => address is IPEndPoint ip && ip.Port == port ? BindShared(ip) : bind(address);
            });
        }
    }

    /// <summary>
    /// A socket bound to <paramref name="address"/> with SO_REUSEPORT (as Kestrel's own, dual-mode on the IPv6 any address):
    /// it binds beside the computer port's listeners of other processes of this effective uid that set it too, and the kernel
    /// spreads new connections over all of them. A listener without it on the port, or of another uid, makes the bind fail
    /// with the address in use.
    /// </summary>
    private static Socket BindShared(IPEndPoint address)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (address.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }
            socket.SetRawSocketOption(LinuxSocketOptions.SolSocket, LinuxSocketOptions.SoReusePort, BitConverter.GetBytes(1));
            socket.Bind(address);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Adds this process's own socket (<see cref="ComputerSocketKeeper.OwnPath"/>, in the folder of the computers' socket) to
    /// the server's addresses, beside the configured HTTP ones; the keeper points the computers' socket at it when no other
    /// replica answers there; and the computer port (<see cref="ComputerOptions.ComputerPort"/>, on every address) when set.
    /// Call after the database is migrated (the default path needs the deployment id) and before
    /// the server starts.
    /// </summary>
    public static WebApplication ListenForComputers(this WebApplication app)
    {
        var computers = new List<string>();
        if (!OperatingSystem.IsWindows() && UsesSocket(app.Configuration))
        {
            var path = app.Services.GetRequiredService<ComputerSocketKeeper>().OwnPath;
            var folder = Path.GetDirectoryName(path)!;
            Directory.CreateDirectory(folder);
            // Computers (another uid) must be able to enter the folder; nothing else is in it.
            File.SetUnixFileMode(folder, (UnixFileMode)0b111_101_101);
            File.Delete(path);
            computers.Add($"http://unix:{path}");
        }
        if (ComputerPortOf(app.Configuration) is > 0 and var computerPort)
        {
            // Every address: the nodes reach this machine at whichever of its addresses ApiUrl names.
            computers.Add($"http://*:{computerPort}");
        }
        if (computers.Count == 0)
        {
            return app;
        }

        var urls = app.Configuration["urls"] is { Length: > 0 } given ? given
            : app.Configuration["http_ports"] is { Length: > 0 } ports ? string.Join(';', ports.Split(';').Select(p => $"http://*:{p}"))
            : "http://localhost:5000";
        // Addresses set here replace the configured ones, so those are listed again.
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            app.Urls.Add(url);
        }
        foreach (var address in computers)
        {
            app.Urls.Add(address);
        }
        return app;
    }

    private static int ComputerPortOf(IConfiguration configuration) =>
        configuration.GetSection(ComputerOptions.Section).GetValue(nameof(ComputerOptions.ComputerPort), 0);

    // Unix sockets bind-mounted into Linux containers: not a thing on a Windows host.
    private static bool UsesSocket(IConfiguration configuration)
    {
        var section = configuration.GetSection(ComputerOptions.Section);
        return !OperatingSystem.IsWindows() && section.GetValue(nameof(ComputerOptions.Enabled), true)
            && section[nameof(ComputerOptions.ApiUrl)] is not { Length: > 0 };
    }

    /// <summary>
    /// Makes the socket connectable by the computers' user once the server listens, and puts the socket's route filter
    /// in the pipeline. Call after authentication.
    /// </summary>
    public static WebApplication UseComputerSocket(this WebApplication app)
    {
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var socket = app.Services.GetService<ComputerSocketKeeper>()?.OwnPath ?? "";
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
    /// True when the request came through the computer socket (the API listens on no other Unix socket) or the computer
    /// port (<see cref="ComputerOptions.ComputerPort"/>). Read from the connection's socket itself, not from its addresses,
    /// which forwarded-header handling could rewrite.
    /// </summary>
    public static bool IsFromComputer(this HttpContext context)
    {
        if (context.Features.Get<IConnectionSocketFeature>()?.Socket is not { } socket)
        {
            return context.Connection.LocalIpAddress is null && context.Connection.RemoteIpAddress is null;
        }
        return socket.AddressFamily == System.Net.Sockets.AddressFamily.Unix
            || (context.RequestServices.GetService<ComputerPortListener>() is { } port
                && socket.LocalEndPoint is System.Net.IPEndPoint { Port: var local } && local == port.Port);
    }

    private static Task FilterAsync(HttpContext context, RequestDelegate next)
    {
        if (!context.IsFromComputer())
        {
            return next(context);
        }
        var metadata = context.GetEndpoint()?.Metadata;
        var type = context.User.Identity?.IsAuthenticated == true ? context.User.FindFirst(RaworcClaims.SubjectType)?.Value : null;
        var isHostRoute = metadata?.GetMetadata<HostRouteAttribute>() is not null;
        var isPoolRoute = metadata?.GetMetadata<PoolRouteAttribute>() is not null;
        var isBootRoute = metadata?.GetMetadata<BootRouteAttribute>() is not null;
        // Unauthenticated callers reach the route's own 401; a Host only Host routes; a pooled computer only the claim route;
        // anyone the boot exchange, whose ticket is its credential.
        if ((isHostRoute && type is null or PrincipalTypes.Host) || (isPoolRoute && type is null or PrincipalTypes.Pool) || isBootRoute)
        {
            return next(context);
        }
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return context.Response.WriteAsJsonAsync(ApiErrors.Body(StatusCodes.Status404NotFound, "Not found."), context.RequestAborted);
    }

    /// <summary>
    /// One socket per deployment: <c>&lt;temp&gt;/raworc-&lt;deployment id&gt;/api.sock</c>. The id lives in the database,
    /// so the path stays put across restarts of the API and of the whole system (with its data volume), and the
    /// computers of an earlier run, which bind-mount the folder, reach the new API through it.
    /// </summary>
    private static string DefaultPath(string deployment) => Path.Combine(Path.GetTempPath(), $"raworc-{deployment}", FileName);
}

/// <summary>The computer port this process serves (<see cref="ComputerOptions.ComputerPort"/>) and the bound on its connections.</summary>
/// <param name="Port">The TCP port, on every address.</param>
/// <param name="Connections">Connections open on it, per source address and in all.</param>
public sealed record ComputerPortListener(int Port, SocketConnectionLimit Connections);
