#!/usr/bin/env bash
# tests/server/test_tritonclient.sh — the real `tritonclient[http]` package
# against the real server: generates a repository (mlp + all-ops) and a key,
# starts `verinfer serve` on a free loopback port, runs
# tritonclient_check.py with the pinned virtualenv of scripts/python-env.sh
# (build/pyenv, or $VERINFER_PYENV), and always stops the server with
# SIGTERM, requiring exit status 0. Environment (set by ctest): VERINFER_BIN,
# VERINFER_SRC, VERINFER_TMP.
set -euo pipefail
bin="${VERINFER_BIN:?VERINFER_BIN must name the verinfer binary}"
src="${VERINFER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}"
tmp="${VERINFER_TMP:-/tmp}"
mkdir -p "$tmp"
work="$(mktemp -d "$tmp/tritonclient-XXXXXX")"
server_pid=""

say() { echo "test_tritonclient: $*"; }

# Is the process alive (running, not a zombie waiting to be reaped)?
alive() {
  local st
  st="$(ps -o stat= -p "$1" 2>/dev/null || true)"
  [ -n "$st" ] && [[ "$st" != Z* ]]
}

finish() {
  local rc=$?
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 200); do alive "$server_pid" || break; sleep 0.1; done
    if alive "$server_pid"; then
      say "the server ignored SIGTERM for 20 s: SIGKILL"
      kill -KILL "$server_pid" 2>/dev/null || true
      rc=1
    fi
    local st=0
    wait "$server_pid" || st=$?
    if [ "$st" -ne 0 ]; then
      say "the server exited with status $st after SIGTERM (want 0)"
      rc=1
    fi
  fi
  if [ "$rc" -ne 0 ]; then
    [ -f "$work/server.log" ] && { say "server log (last 30 lines):"; tail -n 30 "$work/server.log"; }
    say "FAILED (files kept in $work)"
  else
    rm -rf "$work"
    say "passed"
  fi
  exit "$rc"
}
trap finish EXIT
trap 'exit 143' TERM INT

venv="$("$src/scripts/python-env.sh" ${VERINFER_PYENV:+"$VERINFER_PYENV"})"

"$bin" gen-model "$work/repo/mlp" >>"$work/setup.log" 2>&1
"$bin" gen-model --preset all-ops "$work/repo/all-ops" >>"$work/setup.log" 2>&1
pubkey="$("$bin" keygen "$work/key")"

"$bin" serve --model-repo "$work/repo" --key "$work/key" --host 127.0.0.1 --port 0 \
  --ready-file "$work/port" --threads 1 --http-threads 2 2>"$work/server.log" &
server_pid=$!

port=""
for _ in $(seq 600); do
  if [ -s "$work/port" ]; then port="$(cat "$work/port")"; break; fi
  alive "$server_pid" || { say "the server exited before it was ready"; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { say "the server was not ready after 60 s"; exit 1; }
say "server pid $server_pid on 127.0.0.1:$port, python $venv/bin/python"

"$venv/bin/python" "$src/tests/server/tritonclient_check.py" --url "127.0.0.1:$port" \
  --bin "$bin" --repo "$work/repo" --key "$work/key" --pubkey "$pubkey" --workdir "$work"

# every request the client made is in the access log, with its status
grep -q "access POST /v2/models/mlp/infer status=200 model=mlp rows=5" "$work/server.log" ||
  { say "no access-log line for the mlp inference"; exit 1; }
grep -q "access POST /v2/models/no-such-model/infer status=404" "$work/server.log" ||
  { say "no access-log line for the unknown model"; exit 1; }
