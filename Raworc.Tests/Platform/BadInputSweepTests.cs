using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Raworc.ApiService.Errors;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Platform;

/// <summary>
/// Walks the OpenAPI document and sends every operation the inputs a fuzzer sends: wrong JSON kinds per field, huge
/// numbers, duplicate keys, invalid UTF-8, unknown fields, empty and non-object bodies, deep nesting, bad path ids and
/// bad query values. Every answer is a 4xx in the error envelope (or a 2xx the operation documents), never a 5xx, and
/// names no .NET type; a refused field or query parameter is named by its wire name.
/// </summary>
[Collection(RaworcAppCollection.Name)]
public sealed partial class BadInputSweepTests(RaworcAppFixture fixture)
{
    /// <summary>What a case requires of the answer.</summary>
    /// <param name="Status">The exact status, or null for "any 4xx or a documented 2xx".</param>
    /// <param name="Names">Text the error message must contain (a field's wire name), or null.</param>
    private sealed record Expect(int? Status = null, string? Names = null);

    private sealed record Case(string Label, string Method, string Path, HttpContent? Body, Expect Expect);

    // A .NET type, namespace or stack frame in an answer.
    [GeneratedRegex(@"System\.|Microsoft\.|Raworc\.|Nullable<|Exception|\bat [A-Z]\w*\.\w+\(|Parameter '")]
    private static partial Regex DotNetText();

    private static readonly Dictionary<string, string> SampleByKind = new()
    {
        ["integer"] = "12345",
        ["number"] = "1.5",
        ["string"] = "\"text\"",
        ["boolean"] = "true",
        ["array"] = "[1]",
        ["object"] = "{\"a\":1}",
    };

    [Fact]
    public async Task EveryOperationAnswersFuzzedInputWithAClientErrorInTheEnvelope()
    {
        using var anonymous = fixture.CreateApiClient();
        var document = await (await anonymous.GetAsync("/openapi/v1.json")).ReadObjectAsync();
        var (_, client) = await fixture.CreateOperatorAsync("sweep", admin: true);
        using var _c = client;
        var session = await client.CreateSessionAsync();
        var (target, targetClient) = await fixture.CreateOperatorAsync("sweeptarget");
        targetClient.Dispose();
        var pathValues = new Dictionary<string, string> { ["id"] = session.Id().ToString(), ["name"] = target };

        var operations = document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject().Where(op => op.Key is "get" or "post" or "put" or "delete" or "patch")
                .Select(op => (Path: path.Key, Method: op.Key.ToUpperInvariant(), Operation: op.Value!.AsObject())))
            // Deletions last, so the resources they remove serve every other operation first.
            .OrderBy(op => op.Method == "DELETE")
            .ToList();
        Assert.True(operations.Count >= 20, $"the document lists only {operations.Count} operations");

        var failures = new List<string>();
        var sent = 0;
        foreach (var (path, method, operation) in operations)
        {
            foreach (var @case in Cases(document, path, method, operation, pathValues))
            {
                sent++;
                using var request = new HttpRequestMessage(new HttpMethod(@case.Method), @case.Path) { Content = @case.Body };
                // Headers first: an event stream (GET …/events) answering 200 never ends, so its body is not read.
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                var problem = await CheckAsync(response, @case.Expect, operation);
                if (problem is not null)
                {
                    failures.Add($"{method} {path} [{@case.Label}]: {problem}");
                }
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {sent} answers were wrong:\n{string.Join("\n", failures.Take(60))}");
    }

    private static IEnumerable<Case> Cases(JsonObject document, string template, string method, JsonObject operation,
        Dictionary<string, string> pathValues)
    {
        var parameters = operation["parameters"]?.AsArray().Select(p => p!.AsObject()).ToList() ?? [];
        var path = Fill(template, pathValues);
        var body = RequestBodySchema(document, operation, out var bodyRequired);
        var anyBody = body is not null ? Json("{}") : null;

        foreach (var p in parameters.Where(p => (string?)p["in"] == "path"))
        {
            var name = (string)p["name"]!;
            foreach (var bad in new[] { "not-a-guid", "00000000-0000-0000-0000-000000000000", "%FF%FE", "a%20b" })
            {
                yield return new($"path {name}={bad}", method, Fill(template, new(pathValues) { [name] = bad }), body is null ? null : Json("{}"), new(Status: null));
            }
        }

        foreach (var p in parameters.Where(p => (string?)p["in"] == "query"))
        {
            var name = (string)p["name"]!;
            var kinds = Kinds(p["schema"]?.AsObject());
            var format = (string?)p["schema"]?["format"];
            var values = new List<(string Value, bool Wrong)> { ("%00", false), ("%FF", false), ("abc", false) };
            if (kinds.Contains("integer"))
            {
                values = [("abc", true), ("1.5", true), ("99999999999999999999", true), ("1e400", true), ("-99999999999999999999", true), ("%FF", true)];
            }
            else if (format == "uuid")
            {
                values = [("not-a-guid", true), ("%FF", true)];
            }
            foreach (var (value, wrong) in values)
            {
                yield return new($"query {name}={value}", method, $"{path}?{name}={value}", anyBody,
                    wrong ? new(400, name.ToLowerInvariant()) : new());
            }
        }

        if (body is null)
        {
            yield return new("no body", method, path, null, new());
            yield break;
        }

        yield return new("unknown field", method, path, Json("""{"zz_unknown_field": 1}"""), new(400, "zz_unknown_field"));
        yield return new("empty body", method, path, Json(""), bodyRequired ? new(400, "body") : new());
        yield return new("null body", method, path, Json("null"), bodyRequired ? new(400, "body") : new());
        foreach (var notObject in new[] { "[]", "\"x\"", "1", "true", "[{}]" })
        {
            yield return new($"body {notObject}", method, path, Json(notObject), new(400));
        }
        foreach (var broken in new[] { "{", "{\"a\":", "{'a':1}", "{\"a\":1,}", "\uFEFF\uFEFF{}" })
        {
            yield return new($"broken {broken}", method, path, Json(broken), new(400));
        }
        yield return new("invalid UTF-8 body", method, path, Bytes([0xFF, 0xFE, 0x7B, 0x7D]), new(400));
        yield return new("deep nesting", method, path, Json(new string('[', 5000) + new string(']', 5000)), new(400));
        yield return new("text/plain", method, path, new StringContent("{}", Encoding.UTF8, "text/plain"), new(415));

        foreach (var (property, schema) in body.AsObject())
        {
            var kinds = Kinds(Resolve(document, schema!.AsObject()));
            // A schema that names no type (metadata's JsonObject) gets every kind, held only to the general rules.
            foreach (var (kind, sample) in SampleByKind.Where(s => kinds.Count == 0 || !Accepts(kinds, s.Key)))
            {
                yield return new($"{property} as {kind}", method, path, Json($"{{\"{property}\": {sample}}}"), kinds.Count == 0 ? new() : new(400, property));
            }
            if (Accepts(kinds, "integer"))
            {
                foreach (var huge in new[] { "1e400", "99999999999999999999", "-99999999999999999999", "1.0e10" })
                {
                    yield return new($"{property}={huge}", method, path, Json($"{{\"{property}\": {huge}}}"), new(400, property));
                }
            }
            var valid = kinds.Where(k => k != "null").Select(k => SampleByKind[k]).FirstOrDefault() ?? SampleByKind["object"];
            yield return new($"{property} twice", method, path, Json($"{{\"{property}\": {valid}, \"{property}\": {valid}}}"), new(400, property));
            yield return new($"{property} invalid UTF-8", method, path,
                Bytes([.. Encoding.UTF8.GetBytes($"{{\"{property}\": \""), 0xC3, 0x28, 0xFF, .. "\"}"u8.ToArray()]), new(400, property));
            yield return new($"{property} deep", method, path,
                Json($"{{\"{property}\": {string.Concat(Enumerable.Repeat("{\"a\":", 200))}1{new string('}', 200)}}}"), new(400));
            yield return new($"{property} NUL", method, path, Json($"{{\"{property}\": \"\\u0000\"}}"), new());
        }
    }

    private static async Task<string?> CheckAsync(HttpResponseMessage response, Expect expect, JsonObject operation)
    {
        var status = (int)response.StatusCode;
        if (status == 200 && response.Content.Headers.ContentType?.MediaType == "text/event-stream")
        {
            return expect.Status is null && operation["responses"]?["200"]?["content"]?["text/event-stream"] is not null
                ? null
                : $"an undocumented event stream (expected {expect.Status?.ToString() ?? "a documented one"})";
        }
        var text = await response.Content.ReadAsStringAsync();
        if (DotNetText().Match(text) is { Success: true } leak)
        {
            return $"{status} names .NET internals ('{leak.Value}'): {text}";
        }
        if (status is >= 200 and < 300)
        {
            return expect.Status is null && operation["responses"]?[status.ToString()] is not null
                ? null
                : $"{status} (expected {expect.Status?.ToString() ?? "a 4xx or a documented 2xx"}): {text}";
        }
        if (status is < 400 or >= 500 || (expect.Status is { } exact && status != exact))
        {
            return $"{status} (expected {expect.Status?.ToString() ?? "a 4xx"}): {text}";
        }
        if (response.Content.Headers.ContentType?.MediaType != "application/json")
        {
            return $"{status} without the JSON envelope: {text}";
        }
        var error = JsonNode.Parse(text)?["error"];
        if ((string?)error?["code"] != ErrorCodes.ForStatus(status) || string.IsNullOrWhiteSpace((string?)error?["message"]))
        {
            return $"{status} with a wrong envelope: {text}";
        }
        if (expect.Names is { } name && !((string)error!["message"]!).Contains($"{name}", StringComparison.Ordinal))
        {
            return $"{status} whose message does not name '{name}': {text}";
        }
        return null;
    }

    private static string Fill(string template, Dictionary<string, string> values) =>
        Regex.Replace(template, @"\{(\w+)\}", m => values.TryGetValue(m.Groups[1].Value, out var v) ? v : "x");

    // The properties of the operation's JSON body (after $ref), or null when it takes no JSON body.
    private static JsonObject? RequestBodySchema(JsonObject document, JsonObject operation, out bool required)
    {
        required = (bool?)operation["requestBody"]?["required"] ?? false;
        if (operation["requestBody"]?["content"]?["application/json"]?["schema"] is not JsonObject schema)
        {
            return null;
        }
        return Resolve(document, schema)["properties"]?.AsObject() ?? [];
    }

    // A schema with its $ref followed and a nullable wrapper (oneOf [{"type":"null"}, X]) opened to X.
    private static JsonObject Resolve(JsonObject document, JsonObject schema)
    {
        if ((string?)schema["$ref"] is { } reference)
        {
            var node = reference.TrimStart('#', '/').Split('/').Aggregate<string, JsonNode?>(document, (n, part) => n?[part]);
            return Resolve(document, node!.AsObject());
        }
        if ((schema["oneOf"] ?? schema["anyOf"]) is JsonArray choices
            && choices.Select(c => c!.AsObject()).Where(c => (string?)c["type"] != "null").ToList() is [var only])
        {
            return Resolve(document, only);
        }
        return schema;
    }

    // The JSON kinds a schema allows ("type" is a string or an array in OpenAPI 3.1); empty when it does not say.
    private static HashSet<string> Kinds(JsonObject? schema) => schema?["type"] switch
    {
        JsonArray types => [.. types.Select(t => (string)t!)],
        JsonValue type => [(string)type!],
        _ => [],
    };

    private static bool Accepts(HashSet<string> kinds, string kind) =>
        kinds.Contains(kind) || (kind == "integer" && kinds.Contains("number"));

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private static ByteArrayContent Bytes(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }
}
