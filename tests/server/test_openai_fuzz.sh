#!/usr/bin/env bash
# tests/server/test_openai_fuzz.sh — bad input never crashes the language-model
# endpoints: a seeded, time-bounded fuzzing run (tests/server/openai_fuzz.py)
# of mutated requests against /v1/models, /v1/completions,
# /v1/chat/completions (JSON and streamed), /tokenize, /detokenize and
# /v1/verify of a real `verinfer serve --llm` with the tiny model of
# test_openai; every reply must be a 200 (or a well-formed event stream) or a
# 4xx/501/503 with an OpenAI-style JSON error; the server must still be live
# afterwards and must exit 0 on SIGTERM (under ASan: with no report).
set -euo pipefail
NAME=test_openai_fuzz
# shellcheck source=serve_lib.sh
source "$(dirname "$0")/serve_lib.sh"

"$(dirname "$bin")/test_openai" --write-model "$work/tiny.gguf" >>"$work/setup.log" 2>&1
"$bin" keygen "$work/key" >/dev/null

start_server --llm "$work/tiny.gguf:tiny" --key "$work/key" --threads 1 --http-threads 4 \
  --llm-max-seqs 4 --llm-max-queue 8 --max-body-bytes 100000 --no-access-log

python3 "$src/tests/server/openai_fuzz.py" --port "$port" --model tiny \
  --seconds "${VERINFER_FUZZ_SECONDS:-10}"

python3 - "$port" <<'PY'
import json, sys, urllib.error, urllib.request
body = b'{"model":"tiny","prompt":"' + b"a" * 100000 + b'"}'
try:
    urllib.request.urlopen(urllib.request.Request(
        f"http://127.0.0.1:{sys.argv[1]}/v1/completions", body), timeout=10)
    raise SystemExit("a body over --max-body-bytes was accepted")
except urllib.error.HTTPError as e:
    msg = json.load(e)["error"]["message"]
    assert e.code == 413, e.code
    assert msg == ("the request body of 100028 bytes is larger than the limit of 100000 bytes "
                   "(--max-body-bytes)"), msg
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/v1/models", timeout=10) as r:
    assert r.status == 200, r.status
    assert json.load(r)["data"][0]["id"] == "tiny"
PY
say "the server is still live"
