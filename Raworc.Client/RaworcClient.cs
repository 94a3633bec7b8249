using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Raworc.Client.Models;

namespace Raworc.Client;

/// <summary>
/// A typed client of the Raworc REST API v0 over an <see cref="HttpClient"/> (hand-written: see README "Client library").
/// Every method throws <see cref="RaworcApiException"/> when the API answers an error status, and
/// <see cref="HttpRequestException"/> when it cannot be reached.
/// </summary>
/// <remarks>
/// The <see cref="HttpClient"/>'s <see cref="HttpClient.BaseAddress"/> is the server (<c>http://localhost:9000</c>);
/// a base address that already ends in <c>/api/v0</c> is accepted too. The client does not dispose it.
/// </remarks>
public sealed partial class RaworcClient
{
    private readonly HttpClient _http;
    private readonly Uri _api;

    /// <summary>Creates a client over <paramref name="http"/>, whose base address is the server.</summary>
    /// <param name="http">A client with <see cref="HttpClient.BaseAddress"/> set.</param>
    /// <param name="token">A bearer token, or null until <see cref="LoginAsync"/>.</param>
    /// <exception cref="ArgumentException">The client has no base address.</exception>
    public RaworcClient(HttpClient http, string? token = null)
    {
        _http = http;
        _api = ApiRoot(http.BaseAddress ?? throw new ArgumentException("The HttpClient needs a BaseAddress (the server, e.g. http://localhost:9000).", nameof(http)));
        Token = token;
    }

    /// <summary>The bearer token sent with every request; set by <see cref="LoginAsync"/>.</summary>
    public string? Token { get; set; }

    /// <summary>The API's root, always ending in <c>/api/v0/</c>.</summary>
    public Uri ApiBase => _api;

    /// <summary>The API root for a server address: <c>http://host:9000</c> and <c>http://host:9000/api/v0</c> both give <c>http://host:9000/api/v0/</c>.</summary>
    /// <param name="server">The server's address.</param>
    public static Uri ApiRoot(Uri server)
    {
        var text = server.ToString().TrimEnd('/');
        return new Uri(text.EndsWith("/api/v0", StringComparison.OrdinalIgnoreCase) ? text + "/" : text + "/api/v0/");
    }

    /// <summary><c>GET /version</c> (no token needed).</summary>
    public Task<VersionInfo> GetVersionAsync(CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "version", null, WireJson.Default.VersionInfo, cancellationToken);

    /// <summary>
    /// <c>POST /operators/{user}/login</c>; on success <see cref="Token"/> holds the new token.
    /// Wrong password, unknown or inactive operator: 401 <c>UNAUTHORIZED</c>; too many failures: 429 <c>RATE_LIMITED</c>.
    /// </summary>
    /// <param name="user">Operator name.</param>
    /// <param name="password">Its password.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<LoginResult> LoginAsync(string user, string password, CancellationToken cancellationToken = default)
    {
        var result = await SendAsync(HttpMethod.Post, $"operators/{Escape(user)}/login",
            Body(new LoginBody(password), WireJson.Default.LoginBody), WireJson.Default.LoginResult, cancellationToken);
        Token = result.Token;
        return result;
    }

    /// <summary><c>GET /auth</c>: who <see cref="Token"/> belongs to (401 when it is missing, expired or revoked).</summary>
    public Task<AuthInfo> GetAuthAsync(CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "auth", null, WireJson.Default.AuthInfo, cancellationToken);

    private static string Escape(string segment) => Uri.EscapeDataString(segment);

    private static JsonContent Body<T>(T value, JsonTypeInfo<T> type) => JsonContent.Create(value, type);

    private HttpRequestMessage Request(HttpMethod method, string path, HttpContent? content)
    {
        var request = new HttpRequestMessage(method, new Uri(_api, path)) { Content = content };
        if (Token is { Length: > 0 } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return request;
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? content, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(method, path, content, cancellationToken);
        return await ReadAsync(response, type, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = Request(method, path, content);
        var response = await _http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        return response;
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, CancellationToken cancellationToken) =>
        await response.Content.ReadFromJsonAsync(type, cancellationToken)
        ?? throw new RaworcApiException(response.StatusCode, "EMPTY_BODY", "The API answered with an empty body.");

    /// <summary>Turns an error status into a <see cref="RaworcApiException"/> carrying the contract's envelope.</summary>
    internal static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        ErrorBody? error = null;
        try
        {
            error = (await response.Content.ReadFromJsonAsync(WireJson.Default.ErrorEnvelope, cancellationToken))?.Error;
        }
        catch (JsonException)
        {
            // Not the envelope (a proxy's page): the status alone says what happened.
        }
        catch (NotSupportedException)
        {
            // Not JSON at all.
        }
        finally
        {
            response.Dispose();
        }

        var status = (int)response.StatusCode;
        throw new RaworcApiException(response.StatusCode,
            error?.Code ?? $"HTTP_{status.ToString(CultureInfo.InvariantCulture)}",
            error?.Message ?? $"The API answered {status} {response.ReasonPhrase}.",
            error?.Details);
    }

    private static int Header(HttpResponseMessage response, string name, int fallback) =>
        response.Headers.TryGetValues(name, out var values)
        && int.TryParse(values.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : fallback;
}
