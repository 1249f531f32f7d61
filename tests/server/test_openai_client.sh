#!/usr/bin/env bash
# tests/server/test_openai_client.sh — the real `openai` Python client against
# `verinfer serve --llm` with the tiny llama model of test_openai (written by
# `test_openai --write-model`): runs openai_check.py with the pinned
# virtualenv of scripts/python-env.sh (build/pyenv, or $VERINFER_PYENV) and
# always stops the server with SIGTERM, requiring exit status 0.
# Environment (set by ctest): VERINFER_BIN, VERINFER_SRC, VERINFER_TMP.
set -euo pipefail
NAME=test_openai_client
# shellcheck source=serve_lib.sh
source "$(dirname "$0")/serve_lib.sh"

venv="$("$src/scripts/python-env.sh" ${VERINFER_PYENV:+"$VERINFER_PYENV"})"

"$(dirname "$bin")/test_openai" --write-model "$work/tiny.gguf" >>"$work/setup.log" 2>&1
"$bin" keygen "$work/key" >/dev/null

start_server --llm "$work/tiny.gguf:tiny" --key "$work/key" --threads 1 --http-threads 4
"$venv/bin/python" "$src/tests/server/openai_check.py" --url "127.0.0.1:$port" --model tiny

grep -q "access POST /v1/completions status=404" "$work/server.log" ||
  { say "no access-log line for the unknown model"; exit 1; }
