#!/usr/bin/env bash
# Schemathesis (property-based API testing, from PyPI) against docs/openapi.json and a live
# `roadside central serve` on loopback, every request signed by an enrolled terminal
# (hooks.py). Bounded: SCHEMATHESIS_MAX_EXAMPLES cases per operation (default 60).
#
#   Tests/schemathesis/run.sh            after `swift build` (uses .build/debug/roadside)
#
# Checks: no 5xx, every status and body as the document declares, 405 with Allow for
# methods the document does not list, input the document forbids refused, and input it
# allows never refused as malformed (schemathesis.toml says which refusals a generator
# cannot avoid). The ignored_auth check is left out: the hook signs every request whose
# headers Schemathesis did not set out to break, and unsigned requests are covered by the
# negative cases of the security headers.
set -euo pipefail
cd "$(dirname "$0")/../.."
roadside="$PWD/.build/debug/roadside"
[[ -x "$roadside" ]] || { echo "error: build first (swift build)"; exit 1; }

venv="$PWD/.build/schemathesis-venv"
if [[ ! -x "$venv/bin/schemathesis" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "schemathesis==4.32.5" "cryptography>=42"
fi

work="$(mktemp -d)"
server=""
cleanup() {
  [[ -n "$server" ]] && kill "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

home="$work/home"
"$roadside" central init --home "$home" > "$work/init.txt"
code="$(awk '$1 == "T-BJ-0001" { print $2; exit }' "$work/init.txt")"
[[ -n "$code" ]] || { echo "error: no enrolment code for T-BJ-0001 in central init's output"; exit 1; }

"$roadside" central serve --home "$home" --port 0 --rate-limit 0 > "$work/serve.txt" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  grep -q "on http://" "$work/serve.txt" 2>/dev/null && break
  sleep 0.1
done
url="$(grep -o 'http://[0-9.:]*' "$work/serve.txt" | head -1)"
[[ -n "$url" ]] || { echo "error: central serve did not start"; cat "$work/serve.txt"; exit 1; }

"$roadside" terminal init --id T-BJ-0001 --central "$url" --enrol "$code" --home "$home" > /dev/null

export ROADSIDE_TERMINAL=T-BJ-0001
export ROADSIDE_TERMINAL_DB="$home/terminals/T-BJ-0001/terminal.sqlite"
export SCHEMATHESIS_HOOKS=hooks
export PYTHONPATH="$PWD/Tests/schemathesis"
cd "$work"
"$venv/bin/schemathesis" --config-file "$OLDPWD/Tests/schemathesis/schemathesis.toml" \
  run "$OLDPWD/docs/openapi.json" --url "$url" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection,positive_data_acceptance,unsupported_method,allow_header_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-60}" --workers 1 --seed "${SCHEMATHESIS_SEED:-2026}"
