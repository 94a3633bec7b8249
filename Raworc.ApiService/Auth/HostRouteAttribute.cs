namespace Raworc.ApiService.Auth;

/// <summary>
/// Endpoint metadata: an endpoint a session's computer may call through the computer socket. Only the session's own
/// Host token is meant to reach such an endpoint; anything marked without it stays off the socket.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false)]
public sealed class HostRouteAttribute : Attribute;
