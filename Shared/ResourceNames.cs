namespace Raworc;

/// <summary>
/// Names of the resources and parameters the AppHost declares and the services look up
/// (connection strings <c>ConnectionStrings:{name}</c>, parameters <c>Parameters:{name}</c>).
/// One list, compiled into both sides, so the names cannot drift.
/// </summary>
internal static class ResourceNames
{
    /// <summary>The Postgres server resource.</summary>
    public const string Postgres = "postgres";

    /// <summary>The Postgres database holding operators, sessions, messages and the work queue.</summary>
    public const string Database = "raworcdb";

    /// <summary>The Redis resource (presence, idle deadlines, notifications, locks).</summary>
    public const string Redis = "cache";

    /// <summary>The REST API service.</summary>
    public const string Api = "api";

    /// <summary>Secret parameter: the HMAC key that signs JWTs (at least 32 bytes of UTF-8).</summary>
    public const string JwtSigningKey = "jwt-signing-key";

    /// <summary>Secret parameter: the password of the bootstrap operator <c>admin</c>.</summary>
    public const string AdminPassword = "admin-password";

    /// <summary>Secret parameter: the Anthropic API key handed to Host agents (may be empty).</summary>
    public const string AnthropicApiKey = "anthropic-api-key";

    /// <summary>Secret parameter: the API key of an OpenAI-compatible endpoint (may be empty).</summary>
    public const string OpenAiApiKey = "openai-api-key";

    /// <summary>
    /// Parameter of a published deployment only: the computers' provider, <c>docker</c> or <c>swarm</c>
    /// (<c>Computers:Provider</c>; default <c>swarm</c>, the provider for computers on other machines).
    /// </summary>
    public const string ComputersProvider = "computers-provider";

    /// <summary>
    /// Parameter of a published deployment only: the engine the API runs computers on, a Swarm manager or a Docker engine
    /// (<c>Computers:DockerEndpoint</c>, e.g. <c>tcp://10.0.1.4:2375</c>); no default, so <c>azd</c> asks for it.
    /// </summary>
    public const string ComputersEngine = "computers-engine";

    /// <summary>
    /// Parameter of a published deployment only: the address at which computers reach the API's computer port
    /// (<c>Computers:ApiUrl</c>, e.g. <c>http://10.0.2.7:7413/</c>); no default, so <c>azd</c> asks for it.
    /// </summary>
    public const string ComputersApiUrl = "computers-api-url";
}
