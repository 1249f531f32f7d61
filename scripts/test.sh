#!/usr/bin/env bash
# scripts/test.sh — the whole test suite: installs what is missing, then builds
# and runs every test twice: with gcc (Release, CUDA backend compiled when nvcc
# is present) and with clang under AddressSanitizer + UndefinedBehaviorSanitizer.
# Exit status is non-zero if any build or test fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh"
# the real model of the real-model tests (they skip, saying so, without it)
"$root/scripts/fetch-smollm2.sh" >/dev/null ||
  echo "test.sh: warning: could not fetch SmolLM2-135M-Instruct; its tests will be skipped"
jobs="$(nproc)"
status=0

run_suite() {
  local name="$1" dir="$2"; shift 2
  echo "==== $name: configure + build ($dir) ===="
  if ! CC="$CCOMP" CXX="$CXXCOMP" cmake -S "$root" -B "$dir" "$@" >"$dir.configure.log" 2>&1; then
    cat "$dir.configure.log"; echo "==== $name: configure FAILED"; status=1; return
  fi
  if ! cmake --build "$dir" -j"$jobs"; then
    echo "==== $name: build FAILED"; status=1; return
  fi
  echo "==== $name: ctest ===="
  if ! (cd "$dir" && ctest --output-on-failure -j"$jobs" ${VERINFER_CTEST_ARGS:-}); then
    echo "==== $name: tests FAILED"; status=1
  fi
}

mkdir -p "$root/build"
CCOMP=gcc CXXCOMP=g++ run_suite "gcc" "$root/build/test-gcc" -DCMAKE_BUILD_TYPE=Release -DVERINFER_CUDA=AUTO
CCOMP=clang CXXCOMP=clang++ run_suite "clang+asan+ubsan" "$root/build/test-clang-asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DVERINFER_SANITIZE=ON -DVERINFER_FUZZ=ON -DVERINFER_CUDA=OFF -DVERINFER_BENCH=OFF

if [ $status -eq 0 ]; then echo "test.sh: ALL SUITES PASSED"; else echo "test.sh: FAILURES (see above)"; fi
exit $status
