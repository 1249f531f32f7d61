#!/usr/bin/env bash
# tests/server/test_http_fuzz.sh — bad input never crashes the server: a
# seeded, time-bounded fuzzing run (tests/server/http_fuzz.py) of mutated
# requests against every route of a real `verinfer serve`; every reply must
# be a 200, or a 4xx/501/503 with a JSON error; the server must still be healthy
# afterwards and must exit 0 on SIGTERM (under ASan: with no report).
set -euo pipefail
NAME=test_http_fuzz
# shellcheck source=serve_lib.sh
source "$(dirname "$0")/serve_lib.sh"

"$bin" gen-model --name mlp "$work/repo/mlp" >>"$work/setup.log" 2>&1
"$bin" gen-model --preset all-ops --name all-ops "$work/repo/all-ops" >>"$work/setup.log" 2>&1
start_server --model-repo "$work/repo" --threads 1 --http-threads 2 --max-body-bytes 100000 \
  --no-access-log

python3 "$src/tests/server/http_fuzz.py" --port "$port" --repo "$work/repo" --seconds 4

python3 - "$port" <<'PY'
import sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/v2/health/live", timeout=10) as r:
    assert r.status == 200, r.status
PY
say "the server is still live"
