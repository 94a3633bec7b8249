using System.Buffers;
using System.Text.Json;

namespace Raworc.ApiService.Models;

/// <summary>Token figures one provider answer reported; null where the answer carried none or an unusable one.</summary>
/// <param name="InputTokens">Input (prompt) tokens, 0…<see cref="ModelUsageMeter.MaxFigure"/>.</param>
/// <param name="OutputTokens">Output (completion) tokens, 0…<see cref="ModelUsageMeter.MaxFigure"/>.</param>
public sealed record ModelUsage(long? InputTokens, long? OutputTokens);

/// <summary>
/// Reads token usage from a provider's answer while the gateway forwards it, chunk by chunk, without holding the
/// answer back. A JSON answer is kept up to <see cref="MaxJsonBytes"/> and read once complete; a server-sent-event
/// stream is read line by line, each line up to <see cref="MaxLineBytes"/>, and only lines that mention
/// <c>"usage"</c> are parsed. The answer is untrusted: bad JSON, or a figure that is not an integer in
/// 0…<see cref="MaxFigure"/>, yields no figure, never an exception.
/// </summary>
/// <remarks>
/// Shapes (provider documentation): Anthropic JSON <c>usage.input_tokens</c>/<c>usage.output_tokens</c>; Anthropic SSE
/// <c>message_start</c> (<c>message.usage.input_tokens</c>) and <c>message_delta</c> (<c>usage.output_tokens</c>, a
/// running total, so the last one counts); OpenAI JSON and SSE <c>usage.prompt_tokens</c>/<c>usage.completion_tokens</c>
/// (streamed only when the request asked for <c>stream_options.include_usage</c>).
/// </remarks>
/// <param name="provider"><c>anthropic</c> or <c>openai</c>.</param>
public sealed class ModelUsageMeter(string provider)
{
    /// <summary>The largest figure believed for one answer (100 million tokens); anything larger is ignored.</summary>
    public const long MaxFigure = 100_000_000;

    /// <summary>How much of a JSON answer is kept for reading its usage (4 MiB); a longer answer yields no figures.</summary>
    public const int MaxJsonBytes = 4 * 1024 * 1024;

    /// <summary>The longest server-sent-event line read (64 KiB); longer lines are skipped.</summary>
    public const int MaxLineBytes = 64 * 1024;

    private readonly ArrayBufferWriter<byte> _buffer = new();
    private bool _json;
    private bool _sse;
    private bool _overflow;
    private long? _input;
    private long? _output;

    /// <summary>Chooses how to read the answer from its content type (<c>application/json</c> or <c>text/event-stream</c>); anything else is not read.</summary>
    public void Begin(string? contentType)
    {
        _json = contentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true;
        _sse = contentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true;
    }

    /// <summary>Takes the next bytes of the answer, as they are sent on.</summary>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        if (_json)
        {
            Keep(bytes, MaxJsonBytes);
            return;
        }
        while (_sse && bytes.Length > 0)
        {
            var newline = bytes.IndexOf((byte)'\n');
            Keep(newline < 0 ? bytes : bytes[..newline], MaxLineBytes);
            if (newline < 0)
            {
                return;
            }
            if (!_overflow)
            {
                ReadEventLine(_buffer.WrittenSpan);
            }
            _buffer.ResetWrittenCount();
            _overflow = false;
            bytes = bytes[(newline + 1)..];
        }
    }

    /// <summary>The figures read so far; call once the answer is complete.</summary>
    public ModelUsage Complete()
    {
        if (_json && !_overflow)
        {
            Read(_buffer.WrittenSpan, topLevel: true);
        }
        return new ModelUsage(_input, _output);
    }

    private void Keep(ReadOnlySpan<byte> bytes, int limit)
    {
        if (_overflow || _buffer.WrittenCount + bytes.Length > limit)
        {
            _overflow = true;
            return;
        }
        _buffer.Write(bytes);
    }

    private void ReadEventLine(ReadOnlySpan<byte> line)
    {
        line = line.TrimEnd((byte)'\r');
        if (line.StartsWith("data:"u8) && line.IndexOf("\"usage\""u8) >= 0)
        {
            Read(line["data:"u8.Length..], topLevel: false);
        }
    }

    private void Read(ReadOnlySpan<byte> json, bool topLevel)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return;
            }
            if (provider == ModelGatewayContract.OpenAI)
            {
                ReadFigures(root, "prompt_tokens", "completion_tokens");
                return;
            }
            if (topLevel)
            {
                ReadFigures(root, "input_tokens", "output_tokens");
                return;
            }
            var type = root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            switch (type)
            {
                case "message_start" when root.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object:
                    ReadFigures(message, "input_tokens", null);
                    break;
                case "message_delta":
                    ReadFigures(root, null, "output_tokens");
                    break;
            }
        }
        catch (JsonException)
        {
            // An answer we cannot read still reaches the agent; it just counts no tokens.
        }
    }

    private void ReadFigures(JsonElement holder, string? input, string? output)
    {
        if (!holder.TryGetProperty("usage", out var usage) || usage.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        _input = Figure(usage, input) ?? _input;
        _output = Figure(usage, output) ?? _output;
    }

    private static long? Figure(JsonElement usage, string? name) =>
        name is not null && usage.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number
            && value.TryGetInt64(out var figure) && figure is >= 0 and <= MaxFigure
            ? figure
            : null;
}
