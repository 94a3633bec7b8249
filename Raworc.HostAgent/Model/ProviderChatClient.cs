using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.AI;

namespace Raworc.HostAgent.Model;

/// <summary>
/// What the agent's two provider protocols share: one JSON POST per model call over <see cref="ModelHttp"/> (whose
/// pipeline retries), the provider's error envelope turned into <see cref="ModelProviderException"/>, and the
/// conversions between Microsoft.Extensions.AI's contents and JSON. Streaming is the whole answer as updates: the
/// agent posts whole answers.
/// </summary>
/// <param name="http">The client from <see cref="ModelHttp.CreateClient"/>; owned (disposed) by this client.</param>
/// <param name="metadata">The provider name, endpoint and default model, for <see cref="GetService"/>.</param>
internal abstract class ProviderChatClient(HttpClient http, ChatClientMetadata metadata) : IChatClient
{
    /// <summary>The model calls; the subclass builds the request and reads the answer.</summary>
    public abstract Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default);

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetResponseAsync(messages, options, cancellationToken);
        foreach (var update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? metadata
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    /// <inheritdoc />
    public void Dispose() => http.Dispose();

    /// <summary>POSTs <paramref name="request"/> to <paramref name="url"/> and reads the answer; an error status throws.</summary>
    /// <exception cref="ModelProviderException">The provider answered an error status (after the pipeline's retries).</exception>
    protected async Task<TResponse> PostAsync<TRequest, TResponse>(Uri url, TRequest request, JsonTypeInfo<TRequest> requestType,
        JsonTypeInfo<TResponse> responseType, Action<HttpRequestHeaders> authenticate, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, url)
        {
            // Bytes, not a stream: the retry pipeline sends the same content again.
            Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(request, requestType))
            {
                Headers = { ContentType = new MediaTypeHeaderValue("application/json") },
            },
        };
        authenticate(message.Headers);
        using var response = await http.SendAsync(message, HttpCompletionOption.ResponseContentRead, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new ModelProviderException(response.StatusCode, ErrorMessage(body));
        }

        return JsonSerializer.Deserialize(body, responseType)
            ?? throw new JsonException("The model provider answered null.");
    }

    /// <summary>The system prompt: the instructions option and every system message's text, in that order.</summary>
    protected static string? SystemText(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        var parts = messages.Where(m => m.Role == ChatRole.System).Select(m => m.Text).Prepend(options?.Instructions)
            .Where(text => !string.IsNullOrEmpty(text)).ToList();
        return parts.Count == 0 ? null : string.Join("\n\n", parts);
    }

    /// <summary>The tools of <paramref name="options"/> that the model may call (declarations with a schema).</summary>
    protected static IEnumerable<AIFunctionDeclaration> Functions(ChatOptions? options) =>
        options?.ToolMode is NoneChatToolMode ? [] : options?.Tools?.OfType<AIFunctionDeclaration>() ?? [];

    /// <summary>A function's JSON schema as a node.</summary>
    protected static JsonNode? Schema(AIFunctionDeclaration function) => JsonNode.Parse(function.JsonSchema.GetRawText());

    /// <summary>A call's arguments as a JSON object (values the model sent come back as <see cref="JsonElement"/>).</summary>
    protected static JsonObject ArgumentsJson(FunctionCallContent call)
    {
        var json = new JsonObject();
        foreach (var (name, value) in call.Arguments ?? new Dictionary<string, object?>())
        {
            json[name] = ToNode(value);
        }

        return json;
    }

    /// <summary>A call's arguments as Microsoft.Extensions.AI passes them to a function.</summary>
    protected static Dictionary<string, object?> Arguments(JsonObject? json) =>
        (json ?? []).ToDictionary(pair => pair.Key, object? (pair) => pair.Value is null ? null : JsonSerializer.SerializeToElement(pair.Value, ProviderJson.Default.JsonNode));

    /// <summary>The most screenshots one request carries: older ones are left out (their text stays), as each costs ~1,000+ tokens.</summary>
    public const int MaxImagesPerRequest = 3;

    /// <summary>The images of a function's result (the <c>computer</c> tool's screenshots), in order.</summary>
    protected static IEnumerable<DataContent> ResultImages(FunctionResultContent result) =>
        result.Result is IEnumerable<AIContent> contents ? contents.OfType<DataContent>().Where(d => d.HasTopLevelMediaType("image")) : [];

    /// <summary>
    /// The call ids whose result images this request sends: those of the last <see cref="MaxImagesPerRequest"/> results
    /// with an image. Earlier results go as text only, noting that their screenshot was left out.
    /// </summary>
    protected static HashSet<string> ImageResults(IEnumerable<ChatMessage> messages) =>
    [
        .. messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Where(r => ResultImages(r).Any())
            .Select(r => r.CallId).Reverse().Take(MaxImagesPerRequest),
    ];

    /// <summary>The base64 <c>data:</c> URL of an image.</summary>
    protected static string DataUrl(DataContent image) => $"data:{image.MediaType};base64,{Convert.ToBase64String(image.Data.Span)}";

    /// <summary>A function's result as the text the model reads.</summary>
    protected static string ResultText(FunctionResultContent result) => result.Result switch
    {
        null => result.Exception is { } exception ? "Error: " + exception.Message : "",
        string text => text,
        IEnumerable<AIContent> contents => string.Concat(contents.OfType<TextContent>().Select(t => t.Text)),
        JsonElement element => element.ValueKind == JsonValueKind.String ? element.GetString()! : element.GetRawText(),
        var other => ToNode(other)?.ToJsonString() ?? "",
    };

    /// <summary>The usage record, when the provider reported one.</summary>
    protected static UsageDetails? Usage(long? input, long? output, long? total) => input is null && output is null ? null : new UsageDetails
    {
        InputTokenCount = input,
        OutputTokenCount = output,
        TotalTokenCount = total ?? input + output,
    };

    private static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        JsonNode node => node.DeepClone(),
        JsonElement element => JsonNode.Parse(element.GetRawText()),
        string text => JsonValue.Create(text),
        // Microsoft.Extensions.AI's own options resolve the common types through its source-generated context.
        _ => JsonSerializer.SerializeToNode(value, AIJsonUtilities.DefaultOptions.GetTypeInfo(value.GetType())),
    };

    private static string? ErrorMessage(byte[] body)
    {
        try
        {
            return JsonSerializer.Deserialize(body, ProviderJson.Default.ProviderErrorEnvelope)?.Error?.Message;
        }
        catch (JsonException)
        {
            // Not the provider's envelope (a proxy's page, say): the status says enough.
            return null;
        }
    }
}
