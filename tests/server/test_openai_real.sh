#!/usr/bin/env bash
# tests/server/test_openai_real.sh — `verinfer serve --llm` on the real
# SmolLM2-135M-Instruct Q4_1 model (models/local/, fetched by
# scripts/fetch-smollm2.sh; scripts/test.sh fetches it first): runs
# openai_real_check.py (answers, concurrency == alone, receipts, streaming,
# metrics) with the virtualenv of scripts/python-env.sh (build/pyenv, or
# $VERINFER_PYENV). Exits 77 (ctest: SKIPPED) when the model file is absent.
# Environment (set by ctest): VERINFER_BIN, VERINFER_SRC, VERINFER_TMP;
# VERINFER_SMOLLM2 overrides the model path.
set -euo pipefail
src0="${VERINFER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}"
gguf="${VERINFER_SMOLLM2:-$src0/models/local/SmolLM2-135M-Instruct.Q4_1.gguf}"
if [ ! -f "$gguf" ]; then
  echo "test_openai_real: SKIPPED: $gguf is absent (scripts/fetch-smollm2.sh fetches it)"
  exit 77
fi
NAME=test_openai_real
# shellcheck source=serve_lib.sh
source "$(dirname "$0")/serve_lib.sh"

venv="$("$src/scripts/python-env.sh" ${VERINFER_PYENV:+"$VERINFER_PYENV"})"
"$bin" keygen "$work/key" >/dev/null

start_server --llm "$gguf:smollm2" --key "$work/key" --threads 2 --http-threads 4 \
  --llm-max-seqs 8 --llm-ctx 512 --llm-verify-queue 4 --no-access-log
"$venv/bin/python" "$src/tests/server/openai_real_check.py" --url "127.0.0.1:$port" \
  --model smollm2 --bin "$bin" --gguf "$gguf" --work "$work"
