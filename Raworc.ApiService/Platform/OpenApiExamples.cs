using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Raworc.ApiService.Auth;
using Raworc.ApiService.Errors;
using Raworc.ApiService.Messages;
using Raworc.ApiService.Sessions;

namespace Raworc.ApiService.Platform;

/// <summary>
/// Puts an example on the schemas of the main bodies (login, token, create session, session, post message, message,
/// error), as the API writes them: snake_case, RFC 3339 times, UUIDs. The values are those of the README's walkthrough.
/// </summary>
internal sealed class OpenApiExamples : IOpenApiSchemaTransformer
{
    private const string SessionId = "0199d0a4-5b6e-7c21-9a3f-2f1e8c4d7b10";

    private static readonly Dictionary<Type, string> Examples = new()
    {
        [typeof(LoginRequest)] = """{"pass":"raworc-admin-dev"}""",
        [typeof(TokenResponse)] = """
            {"token":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…","token_type":"Bearer","expires_at":"2026-12-02T02:10:00.000Z",
             "user":"admin","role":"admin"}
            """,
        [typeof(CreateSessionRequest)] = """
            {"name":"demo","metadata":{"project":"hello"},"secrets":{"MY_KEY":"v"},"instructions":"Answer briefly.",
             "setup":"echo ready > /session/data/setup-ran","prompt":"Write hello.txt","timeout_seconds":600}
            """,
        [typeof(SessionResponse)] = $$$"""
            {"id":"{{{SessionId}}}","name":"demo","created_by":"admin","state":"idle",
             "container_id":"raworc-session-{{{SessionId}}}","persistent_volume_id":"raworc-session-{{{SessionId}}}",
             "parent_session_id":null,"created_at":"2026-12-01T02:10:00.000Z","started_at":"2026-12-01T02:10:01.000Z",
             "last_activity_at":"2026-12-01T02:10:09.000Z","closed_at":null,"metadata":{"project":"hello"},
             "is_published":false,"published_at":null,"published_by":null,
             "publish_permissions":{"data":true,"code":true,"secrets":false},"timeout_seconds":600,
             "auto_close_at":"2026-12-01T02:20:09.000Z","error":null,
             "usage":{"model_calls":2,"input_tokens":1830,"output_tokens":96}}
            """,
        [typeof(PostMessageRequest)] = """{"content":"and now list /session/data","metadata":{"source":"docs"}}""",
        [typeof(MessageResponse)] = $$$"""
            {"id":"0199d0a4-6c1f-7e55-8b02-91d3c6a0e4f2","session_id":"{{{SessionId}}}","role":"host",
             "content":"$ ls /session/data\nsetup-ran\n","metadata":{"type":"tool_execution","tool":"bash","tool_type":"bash",
             "arguments":{"command":"ls /session/data"},"duration_ms":12,"exit_code":0},"created_at":"2026-12-01T02:10:07.000Z"}
            """,
        [typeof(ErrorResponse)] = """{"error":{"code":"NOT_FOUND","message":"Session not found."}}""",
    };

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        // Only the schema of the type itself, not of a property or list item that happens to have that type.
        if (context.JsonPropertyInfo is null && Examples.TryGetValue(context.JsonTypeInfo.Type, out var example))
        {
            schema.Examples = [JsonNode.Parse(example)!];
        }
        return Task.CompletedTask;
    }
}
