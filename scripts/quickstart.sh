#!/usr/bin/env bash
# scripts/quickstart.sh — installs what is missing, builds verinfer, generates
# the default model (a seeded MLP classifier) and a node key if absent, runs
# the model's example request with a signed receipt, and verifies it.
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
