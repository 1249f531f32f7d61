#!/usr/bin/env bash
# tests/server/test_tritonclient.sh — the real `tritonclient[http]` package
# against the real server: generates a repository (mlp + all-ops) and a key,
# starts `verinfer serve` on a free loopback port, runs
# tritonclient_check.py with the pinned virtualenv of scripts/python-env.sh
# (build/pyenv, or $VERINFER_PYENV), and always stops the server with
# SIGTERM, requiring exit status 0. Environment (set by ctest): VERINFER_BIN,
# VERINFER_SRC, VERINFER_TMP.
set -euo pipefail
NAME=test_tritonclient
# shellcheck source=serve_lib.sh
source "$(dirname "$0")/serve_lib.sh"

venv="$("$src/scripts/python-env.sh" ${VERINFER_PYENV:+"$VERINFER_PYENV"})"

"$bin" gen-model "$work/repo/mlp" >>"$work/setup.log" 2>&1
"$bin" gen-model --preset all-ops "$work/repo/all-ops" >>"$work/setup.log" 2>&1
pubkey="$("$bin" keygen "$work/key")"

start_server --model-repo "$work/repo" --key "$work/key" --threads 1 --http-threads 2
say "python $venv/bin/python"

"$venv/bin/python" "$src/tests/server/tritonclient_check.py" --url "127.0.0.1:$port" \
  --bin "$bin" --repo "$work/repo" --key "$work/key" --pubkey "$pubkey" --workdir "$work"

# every request the client made is in the access log, with its status
grep -q "access POST /v2/models/mlp/infer status=200 model=mlp rows=5" "$work/server.log" ||
  { say "no access-log line for the mlp inference"; exit 1; }
grep -q "access POST /v2/models/no-such-model/infer status=404" "$work/server.log" ||
  { say "no access-log line for the unknown model"; exit 1; }
