#!/usr/bin/env bash
# scripts/build.sh — configures and builds verinfer in a build directory.
# usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]   (default: build)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$root/build}"
shift || true
cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
