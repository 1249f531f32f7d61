#!/usr/bin/env bash
# scripts/quickstart.sh — installs what is missing, builds verinfer, generates
# the default model (a seeded MLP classifier) and a node key if absent, runs
# the model's example request with a signed receipt, verifies it, fetches the
# SmolLM2-135M-Instruct language model (scripts/fetch-smollm2.sh; without it
# the quick start goes on without a language model) and generates one answer
# with it, then starts the server on http://127.0.0.1:8000 with both models
# (Ctrl-C stops it). Set PORT to change the port, or VERINFER_NO_SERVE=1 to
# stop before serving.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
"$root/scripts/install-deps.sh"
echo "quickstart: building (build/)"
"$root/scripts/build.sh" "$root/build"
bin="$root/build/verinfer"
model="$root/models/repo/mlp-classifier"
key="$root/.verinfer/node.key"
if [ ! -f "$model/model.json" ]; then
  "$bin" gen-model --preset mlp --name mlp-classifier --inputs 16 --hidden 64,64 --classes 4 --seed 1 "$model"
fi
if [ ! -f "$key" ]; then
  mkdir -p "$(dirname "$key")" && chmod 700 "$(dirname "$key")"
  echo -n "quickstart: node public key: "; "$bin" keygen "$key"
fi
echo "quickstart: model digest: $("$bin" digest "$model")"
out="$root/.verinfer/response.json"
"$bin" run "$model" "$model/example-request.json" --key "$key" > "$out"
echo "quickstart: response with receipt ($out):"
cat "$out"; echo
echo "quickstart: verifying it by re-execution:"
"$bin" verify "$model" "$model/example-request.json" "$out"

# the language model: fetched once (about 93 MB), checked by its SHA-256
llm_args=()
fetch_log="$root/.verinfer/fetch-smollm2.log"
echo "quickstart: fetching SmolLM2-135M-Instruct (scripts/fetch-smollm2.sh, about 93 MB once)"
if "$root/scripts/fetch-smollm2.sh" >/dev/null 2>"$fetch_log"; then
  gguf="models/local/SmolLM2-135M-Instruct.Q4_1.gguf"
  echo "quickstart: verinfer generate $gguf --chat --prompt 'What is the capital of France?'"
  gen_log="$root/.verinfer/generate.log"
  "$bin" generate "$gguf" --chat --prompt "What is the capital of France?" --max-tokens 32 \
    2>"$gen_log" || { cat "$gen_log"; exit 1; }
  echo; grep '^verinfer generate:' "$gen_log" || true
  llm_args=(--llm "$gguf:smollm2")
else
  echo "quickstart: could not fetch SmolLM2-135M-Instruct (see $fetch_log): serving without a language model"
fi

[ "${VERINFER_NO_SERVE:-0}" = "1" ] && exit 0
port="${PORT:-8000}"
cat <<MSG

quickstart: starting the server on http://127.0.0.1:$port (Ctrl-C stops it). Try, from another shell:
  curl -s localhost:$port/v2/health/ready -o /dev/null -w '%{http_code}\n'
  curl -s localhost:$port/v2/models/mlp-classifier
  curl -s -X POST localhost:$port/v2/models/mlp-classifier/infer -d @models/repo/mlp-classifier/example-request.json
  scripts/python-env.sh >/dev/null && build/pyenv/bin/python scripts/example_tritonclient.py --url localhost:$port
MSG
if [ ${#llm_args[@]} -gt 0 ]; then
  cat <<MSG
  curl -s localhost:$port/v1/chat/completions -H 'Content-Type: application/json' \\
    -d '{"model": "smollm2", "messages": [{"role": "user", "content": "What is the capital of France?"}], "temperature": 0}'
MSG
fi
exec "$bin" serve --model-repo "$root/models/repo" "${llm_args[@]}" --key "$key" --port "$port"
