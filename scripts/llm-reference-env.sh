#!/usr/bin/env bash
# scripts/llm-reference-env.sh — the independent reference the LLM features
# are checked against: llama-cpp-python (PyPI; it compiles llama.cpp from
# source, several minutes on 2 cores) in a virtualenv at build/llmref, or at
# the path given as $1. Idempotent: a venv whose stamp matches the pins is
# left alone. Prints the venv path on standard output.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:-$root/build/llmref}"
PINS=("llama-cpp-python==0.3.36" "numpy==2.4.6" "openai==3.57.0")
stamp="$venv/.verinfer-pins"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${PINS[*]}" ]; then
  echo "$venv"; exit 0
fi
python3 -m venv "$venv" >&2
echo "llm-reference-env: building ${PINS[0]} (compiles llama.cpp; several minutes)" >&2
CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" CMAKE_ARGS="-DGGML_NATIVE=ON" \
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${PINS[@]}" >&2
echo "${PINS[*]}" >"$stamp"
echo "$venv"
