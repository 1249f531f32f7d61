# tests/server/serve_lib.sh — sourced by the shell tests that drive a real
# `verinfer serve`: a scratch directory, starting the server on a free
# loopback port, and an EXIT trap that always stops it with SIGTERM and
# requires exit status 0. The caller sets NAME before sourcing; environment
# (set by ctest): VERINFER_BIN, VERINFER_SRC, VERINFER_TMP.
bin="${VERINFER_BIN:?VERINFER_BIN must name the verinfer binary}"
src="${VERINFER_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
tmp="${VERINFER_TMP:-/tmp}"
mkdir -p "$tmp"
work="$(mktemp -d "$tmp/$NAME-XXXXXX")"
server_pid=""
port=""

say() { echo "$NAME: $*"; }

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

# start_server ARGS...: starts `verinfer serve ARGS --port 0` on 127.0.0.1 and
# sets port (waits up to 60 s for the ready file).
start_server() {
  "$bin" serve "$@" --host 127.0.0.1 --port 0 --ready-file "$work/port" 2>"$work/server.log" &
  server_pid=$!
  for _ in $(seq 600); do
    if [ -s "$work/port" ]; then port="$(cat "$work/port")"; break; fi
    alive "$server_pid" || { say "the server exited before it was ready"; exit 1; }
    sleep 0.1
  done
  [ -n "$port" ] || { say "the server was not ready after 60 s"; exit 1; }
  say "server pid $server_pid on 127.0.0.1:$port"
}
