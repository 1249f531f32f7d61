#!/usr/bin/env bash
# scripts/install-deps.sh — installs the Debian packages verinfer needs to
# build and test, skipping what is already there. Works as root or with sudo.
set -euo pipefail

PACKAGES=(build-essential cmake pkg-config clang libclang-rt-14-dev libjansson-dev libmicrohttpd-dev libssl-dev
          libcmocka-dev libopenblas-dev python3 python3-venv curl)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
