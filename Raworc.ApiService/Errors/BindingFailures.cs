using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Platform;

namespace Raworc.ApiService.Errors;

/// <summary>
/// Says why a request could not be bound, in the contract's words: the wire name of the field or query parameter and
/// what it must be (<c>limit must be an integer</c>, <c>Unknown field 'nmae'</c>). The facts come from the endpoint (its
/// handler's parameters, its body type as the serializer sees it) and the request, never from the text of the
/// framework's exception, which names .NET types.
/// </summary>
public static class BindingFailures
{
    /// <summary>The message for a request body the serializer refused with <paramref name="json"/>.</summary>
    public static string DescribeBody(HttpContext context, JsonException json)
    {
        if (json is JsonFieldException field)
        {
            return field.Message;
        }
        if (json.InnerException is JsonException syntax)
        {
            // The reader's own failure: bad syntax, bad UTF-8 between tokens, nesting past the limit (64), or no JSON at all.
            return syntax.BytePositionInLine is { } position && context.Request.ContentLength is not 0
                ? $"body is not valid JSON (line {syntax.LineNumber + 1}, byte {position + 1}): check its syntax, its UTF-8 encoding and its depth (at most 64 levels)."
                : "body is not valid JSON.";
        }
        var name = TopLevelField(json.Path);
        if (name is null)
        {
            return "body must be a JSON object.";
        }
        var fields = BodyFields(context);
        if (fields is null)
        {
            return $"Field '{name}' has a value of the wrong type.";
        }
        if (!fields.TryGetValue(name, out var type))
        {
            return $"Unknown field '{name}'; this request takes {string.Join(", ", fields.Keys)}.";
        }
        var kind = Kind(type);
        // Without an inner failure the serializer refused the field itself: given twice, or a value of another JSON kind.
        return json.InnerException is null
            ? $"Field '{name}' must be given once, as {kind}."
            : $"Field '{name}' must be {kind}.";
    }

    /// <summary>The message for a request that failed to bind other than by its JSON (a bad query value, a missing body).</summary>
    public static string Describe(HttpContext context)
    {
        var accepts = FailedEndpoint(context)?.Metadata.GetMetadata<IAcceptsMetadata>();
        if (accepts is { RequestType: not null, IsOptional: false } && context.Request.ContentLength is 0 or null
            && !context.Request.Headers.TransferEncoding.Any())
        {
            return "body is required: send a JSON object.";
        }
        var bad = BadValues(context).ToList();
        if (bad.Count > 0)
        {
            return string.Join(" ", bad);
        }
        return accepts is { RequestType: not null, IsOptional: false }
            ? "body must be a JSON object, not null."
            : ErrorCodes.DefaultMessage(400);
    }

    // The exception handler runs with the endpoint cleared; the feature keeps the one that failed.
    private static Endpoint? FailedEndpoint(HttpContext context) =>
        context.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? context.GetEndpoint();

    private static RouteValueDictionary RouteValues(HttpContext context) =>
        context.Features.Get<IExceptionHandlerFeature>()?.RouteValues ?? context.Request.RouteValues;

    // "$.secrets.A" → "secrets"; "$['a.b']" → "a.b"; "$" → null.
    private static string? TopLevelField(string? path)
    {
        if (path is null || !path.StartsWith('$') || path.Length < 2)
        {
            return null;
        }
        if (path[1] == '.')
        {
            var rest = path[2..];
            var end = rest.IndexOfAny(['.', '[']);
            return end < 0 ? rest : rest[..end];
        }
        if (path.StartsWith("$['", StringComparison.Ordinal))
        {
            var end = path.IndexOf("']", 3, StringComparison.Ordinal);
            return end < 0 ? path[3..] : path[3..end];
        }
        return null;
    }

    // Wire name → .NET type of the endpoint's body, as the API's serializer options map it.
    private static Dictionary<string, Type>? BodyFields(HttpContext context)
    {
        var type = FailedEndpoint(context)?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType;
        var options = context.RequestServices?.GetService<IOptions<JsonOptions>>()?.Value.SerializerOptions;
        if (type is null || options is null)
        {
            return null;
        }
        var info = options.GetTypeInfo(type);
        return info.Kind == System.Text.Json.Serialization.Metadata.JsonTypeInfoKind.Object
            ? info.Properties.ToDictionary(p => p.Name, p => p.PropertyType, StringComparer.Ordinal)
            : null;
    }

    // Query and route values the handler's parameters could not parse, as "limit must be an integer." sentences.
    private static IEnumerable<string> BadValues(HttpContext context)
    {
        if (FailedEndpoint(context)?.Metadata.GetMetadata<MethodInfo>() is not { } method)
        {
            yield break;
        }
        foreach (var (name, type) in SimpleParameters(method.GetParameters()))
        {
            var raw = RouteValues(context).TryGetValue(name, out var routeValue) && routeValue is string route
                ? route
                : context.Request.Query.FirstOrDefault(q => string.Equals(q.Key, name, StringComparison.OrdinalIgnoreCase)).Value.ToString();
            if (!string.IsNullOrEmpty(raw) && !Parses(type, raw))
            {
                yield return $"{JsonNamingPolicy.SnakeCaseLower.ConvertName(name)} must be {Kind(type)}.";
            }
        }
    }

    // The handler's parameters bound from the route or query with a parse step, [AsParameters] groups opened.
    private static IEnumerable<(string Name, Type Type)> SimpleParameters(IEnumerable<ParameterInfo> parameters)
    {
        foreach (var parameter in parameters)
        {
            if (parameter.GetCustomAttribute<AsParametersAttribute>() is not null)
            {
                var constructor = parameter.ParameterType.GetConstructors().MaxBy(c => c.GetParameters().Length);
                foreach (var inner in SimpleParameters(constructor?.GetParameters() ?? []))
                {
                    yield return inner;
                }
            }
            else if (parameter.Name is { } name && IsParsed(Nullable.GetUnderlyingType(parameter.ParameterType) ?? parameter.ParameterType))
            {
                yield return (parameter.GetCustomAttribute<Microsoft.AspNetCore.Mvc.FromQueryAttribute>()?.Name ?? name, parameter.ParameterType);
            }
        }
    }

    private static bool IsParsed(Type type) =>
        type == typeof(int) || type == typeof(long) || type == typeof(Guid) || type == typeof(bool) || type == typeof(DateTimeOffset);

    private static bool Parses(Type type, string raw) => (Nullable.GetUnderlyingType(type) ?? type) switch
    {
        var t when t == typeof(int) => int.TryParse(raw, CultureInfo.InvariantCulture, out _),
        var t when t == typeof(long) => long.TryParse(raw, CultureInfo.InvariantCulture, out _),
        var t when t == typeof(Guid) => Guid.TryParse(raw, CultureInfo.InvariantCulture, out _),
        var t when t == typeof(bool) => bool.TryParse(raw, out _),
        var t when t == typeof(DateTimeOffset) => DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, out _),
        _ => true,
    };

    // What a value of a contract type is, in words a client understands.
    private static string Kind(Type type) => (Nullable.GetUnderlyingType(type) ?? type) switch
    {
        var t when t == typeof(string) => "a string of valid Unicode text",
        var t when t == typeof(int) || t == typeof(long) => "an integer",
        var t when t == typeof(bool) => "true or false",
        var t when t == typeof(Guid) => "a UUID",
        var t when t == typeof(DateTimeOffset) => "an RFC 3339 timestamp",
        var t when t == typeof(JsonObject) => "a JSON object",
        var t when t == typeof(Dictionary<string, string>) => "a JSON object whose values are strings",
        _ => "a value of the type the API reference gives",
    };
}
