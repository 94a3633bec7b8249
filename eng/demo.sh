#!/usr/bin/env bash
# Walks through Raworc's main job against a running system (started with eng/run.sh) and prints each step:
# log in, create an operator, create a session, read the Host's answer, close it, message it (it restores
# itself), remix it, publish it, and delete what it made (the operator too, also when a step fails). Needs curl
# and python3.
#   RAWORC_API   API base URL            (default http://localhost:9000/api/v0)
#   RAWORC_ADMIN_PASSWORD                (default raworc-admin-dev, the local default)
set -euo pipefail
API=${RAWORC_API:-http://localhost:9000/api/v0}
ADMIN_PASSWORD=${RAWORC_ADMIN_PASSWORD:-raworc-admin-dev}
J='Content-Type: application/json'

step() { printf '\n== %s\n' "$*"; }
field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d'"$1"')'; }
call() { # method path [body] -> prints body, fails on HTTP >= 400
  local method=$1 path=$2 body=${3:-}
  local args=(-sS -X "$method" "$API$path" -H "Authorization: Bearer ${TOKEN:-}" -w '\n%{http_code}')
  [ -n "$body" ] && args+=(-H "$J" -d "$body")
  local out; out=$(curl "${args[@]}")
  local code=${out##*$'\n'}; out=${out%$'\n'*}
  if [ "$code" -ge 400 ]; then echo "HTTP $code on $method $path: $out" >&2; return 1; fi
  printf '%s' "$out"
}
wait_state() { # id state
  for _ in $(seq 1 300); do
    [ "$(call GET "/sessions/$1" | field '["state"]')" = "$2" ] && return 0
    sleep 0.2
  done
  echo "session $1 did not become $2" >&2; return 1
}
wait_answers() { # id count -> waits until the session has <count> final answers (or errors)
  for _ in $(seq 1 300); do
    n=$(call GET "/sessions/$1/messages?limit=1000" | python3 -c 'import json,sys; print(sum(1 for m in json.load(sys.stdin) if m["role"]=="host" and (m["metadata"] or {}).get("type") in ("response","error")))')
    [ "$n" -ge "$2" ] && return 0
    sleep 0.2
  done
  echo "session $1 has no answer" >&2; return 1
}
show_messages() {
  call GET "/sessions/$1/messages?limit=1000" | python3 -c '
import json,sys
for m in json.load(sys.stdin):
    kind = (m["metadata"] or {}).get("type", "")
    label = m["role"] + (" " + kind if kind else "")
    text = m["content"].strip().replace(chr(10), chr(10) + "      ")
    if kind == "tool_execution":
        meta = m["metadata"]
        text = "%s %s -> exit %s in %s ms" % (meta.get("tool"), json.dumps(meta.get("arguments")), meta.get("exit_code"), meta.get("duration_ms"))
    print("  [" + label + "] " + text)'
}
last_answer() { # id -> prints the session's latest answer (or error) in full
  call GET "/sessions/$1/messages?limit=1000" | python3 -c '
import json,sys
answers = [m for m in json.load(sys.stdin) if m["role"] == "host" and (m["metadata"] or {}).get("type") in ("response", "error")]
print("  [host " + answers[-1]["metadata"]["type"] + "] " + answers[-1]["content"].strip().replace(chr(10), chr(10) + "      "))'
}

step "version";  curl -sS "$API/version"; echo
step "log in as admin"
TOKEN=$(call POST /operators/admin/login "{\"pass\":\"$ADMIN_PASSWORD\"}" | field '["token"]')
ADMIN_TOKEN=$TOKEN
DEMO_USER="demo-$(date +%s)"
step "create operator $DEMO_USER and log in as it"
call POST /operators "{\"user\":\"$DEMO_USER\",\"pass\":\"demo-password-1\"}" >/dev/null
# Whatever happens below, the operator goes at the end, and with it every session it still owns.
cleanup() {
  TOKEN=$ADMIN_TOKEN call DELETE "/operators/$DEMO_USER?close_sessions=true" >/dev/null && echo "  operator $DEMO_USER deleted"
}
trap cleanup EXIT
TOKEN=$(call POST "/operators/$DEMO_USER/login" '{"pass":"demo-password-1"}' | field '["token"]')

step "create a session with a secret, instructions, a setup script and a prompt"
ID=$(call POST /sessions '{"secrets":{"DEMO_TOKEN":"demo-secret"},"instructions":"Answer briefly.",
  "setup":"echo setup ran > /session/data/setup-ran","prompt":"What is in /session/data?","timeout_seconds":600}' | field '["id"]')
echo "  session $ID"
wait_state "$ID" idle; wait_answers "$ID" 1; wait_state "$ID" idle
show_messages "$ID"

step "close it (computer removed, files and history kept)"
call POST "/sessions/$ID/close" >/dev/null; wait_state "$ID" closed; echo "  closed"
step "message it: it restores itself and answers"
call POST "/sessions/$ID/messages" '{"content":"Are you back?"}' >/dev/null
wait_answers "$ID" 2; wait_state "$ID" idle
last_answer "$ID"

step "remix it with its data only"
CHILD=$(call POST "/sessions/$ID/remix" '{"data":true,"code":false,"secrets":false}' | field '["id"]')
wait_state "$CHILD" idle; echo "  remix $CHILD is idle"

step "publish it without secrets; anyone can list it"
call POST "/sessions/$ID/publish" '{"data":true,"code":true,"secrets":false}' >/dev/null
curl -sS "$API/published/sessions?limit=5" | python3 -c 'import json,sys; [print("  published:", s["id"], s["state"], s["publish_permissions"]) for s in json.load(sys.stdin)]'

step "delete both sessions (computers and volumes removed), then the operator"
call DELETE "/sessions/$CHILD" >/dev/null; call DELETE "/sessions/$ID" >/dev/null; echo "  sessions deleted"
