#!/usr/bin/env bash
# scripts/quickstart.sh — installs what is missing, builds verinfer, generates
# the default model (a seeded MLP classifier) and a node key if absent, runs
# the model's example request with a signed receipt, verifies it, then starts
# the server on http://127.0.0.1:8000 (Ctrl-C stops it). Set PORT to change
# the port, or VERINFER_NO_SERVE=1 to stop after the verification.
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

[ "${VERINFER_NO_SERVE:-0}" = "1" ] && exit 0
port="${PORT:-8000}"
cat <<MSG

quickstart: starting the server on http://127.0.0.1:$port (Ctrl-C stops it). Try, from another shell:
  curl -s localhost:$port/v2/health/ready -o /dev/null -w '%{http_code}\n'
  curl -s localhost:$port/v2/models/mlp-classifier
  curl -s -X POST localhost:$port/v2/models/mlp-classifier/infer -d @models/repo/mlp-classifier/example-request.json
  scripts/python-env.sh >/dev/null && build/pyenv/bin/python scripts/example_tritonclient.py --url localhost:$port
MSG
exec "$bin" serve --model-repo "$root/models/repo" --key "$key" --port "$port"
