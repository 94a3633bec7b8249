#!/usr/bin/env python3
"""A stand-in model for trying Raworc without a model provider: a tiny OpenAI-compatible server.

It speaks just enough of POST /v1/chat/completions (non-streaming) to show a real tool round trip:
when the conversation does not yet end with a tool result it asks to run the `bash` tool with
`ls -la /session/data && date -u`; when it does, it answers with what the tool printed.
Run it next to Raworc:   python3 eng/demo-model.py            (listens on 127.0.0.1:9100)
and start Raworc with:   Raworc__ModelProvider=openai Raworc__ModelBaseUrl=http://127.0.0.1:9100/v1 bash eng/run.sh
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 9100


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        if not self.path.endswith("/chat/completions"):
            self.send_error(404)
            return
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        last = body["messages"][-1]
        if last.get("role") == "tool":
            message = {"role": "assistant", "content": "The demo model ran a command on your computer:\n" + str(last.get("content", ""))}
            finish = "stop"
        else:
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [{
                    "id": f"call_{time.time_ns()}",
                    "type": "function",
                    "function": {"name": "bash", "arguments": json.dumps({"command": "ls -la /session/data && date -u"})},
                }],
            }
            finish = "tool_calls"
        reply = {
            "id": f"chatcmpl-{time.time_ns()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "demo"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        sys.stderr.write("demo-model: " + (fmt % args) + "\n")


if __name__ == "__main__":
    print(f"demo-model: listening on http://127.0.0.1:{PORT}/v1", flush=True)
    ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
