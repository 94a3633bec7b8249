namespace Raworc.ApiService.Auth;

/// <summary>
/// Marks an endpoint a session's computer may call through the computer socket (see
/// <see cref="Computers.ComputerSocket"/>): the Host's own messages, busy/idle and the model gateway. Every other
/// endpoint answers 404 there, and these answer only to a Host token.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method)]
public sealed class HostRouteAttribute : Attribute;

/// <summary>
/// Marks an endpoint a warm-pool computer's agent may call with its pool token (through the computer socket or not): the
/// claim route only. A pool token on any other endpoint is a 401, and no other token is accepted here.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method)]
public sealed class PoolRouteAttribute : Attribute;

/// <summary>
/// Marks the cold start's boot exchange (<see cref="Computers.BootApi"/>), which a computer's agent calls before it has any
/// token: anonymous (the one-time boot ticket in the body is the credential), and reachable through the computer socket.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method)]
public sealed class BootRouteAttribute : Attribute;
