#!/usr/bin/env bash
# scripts/python-env.sh — the Python environment of the client-side tests:
# creates (once) a virtualenv at build/pyenv, or at the path given as $1, and
# installs the pinned packages below into it (NVIDIA's tritonclient[http],
# numpy and the openai client; their dependencies are locked by the constraints list). Idempotent
# and quiet: a venv whose stamp matches the pins is left alone. Prints the
# venv path on standard output; exit status non-zero if it cannot be built
# (no python3 venv module, no access to PyPI).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:-$root/build/pyenv}"

# What the tests import. Change a pin here and every venv is rebuilt.
REQUIREMENTS=(
  "tritonclient[http]==2.73.0"
  "numpy==2.4.6"
  "openai==3.57.0"
)
# The dependencies pip resolved for those pins (pip freeze), locked so that
# every machine tests against the same client code.
CONSTRAINTS="aiohappyeyeballs==2.7.1
aiohttp==3.14.5
aiosignal==1.4.0
annotated-types==0.8.0
anyio==4.16.0
attrs==26.1.0
brotli==1.2.1
certifi==2026.10.19.post1
frozenlist==1.8.0
gevent==26.9.0
geventhttpclient==2.6.1
greenlet==3.3.2
h11==0.16.0
httpcore2==2.16.2
httpx2==2.16.2
idna==3.20
jiter==0.19.0
ml_dtypes==0.5.4
multidict==7.2.1
propcache==0.5.4
pydantic==2.14.4
pydantic_core==2.50.5
python-rapidjson==1.25
sniffio==1.3.1
truststore==0.10.5
typing-inspection==0.4.5
typing_extensions==4.16.0
urllib3==2.8.0
yarl==1.25.1
zope.event==6.2
zope.interface==8.7"

stamp_text="$(printf '%s\n' "${REQUIREMENTS[@]}" "$CONSTRAINTS")"
stamp="$venv/.verinfer-requirements"

ready() {
  [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_text" ] &&
    "$venv/bin/python" -c 'import numpy, openai, tritonclient.http' >/dev/null 2>&1
}

if ! ready; then
  mkdir -p "$(dirname "$venv")"
  # two test runs may build the same venv at once: the second waits for the first
  exec 9>"$venv.lock"
  flock 9
  if ! ready; then
    log="$(mktemp)"
    trap 'rm -f "$log"' EXIT
    rm -rf "$venv"
    cons="$(mktemp)"
    printf '%s\n' "$CONSTRAINTS" >"$cons"
    if ! { python3 -m venv "$venv" &&
           "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-input \
             -c "$cons" "${REQUIREMENTS[@]}"; } >"$log" 2>&1; then
      rm -f "$cons"
      cat "$log" >&2
      echo "python-env.sh: could not build the virtualenv at $venv (needs python3-venv and PyPI)" >&2
      rm -rf "$venv"
      exit 1
    fi
    rm -f "$cons"
    printf '%s\n' "$stamp_text" >"$stamp"
  fi
  flock -u 9
fi
echo "$venv"
