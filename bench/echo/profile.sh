#!/usr/bin/env bash
# Runs one echo_bench server pinned to CPU 0 and the load generator pinned to CPU 1 while a
# profiling command watches the server process, e.g.
#
#   setsid bench/echo/profile.sh build-echo/bin/echo_bench chronos-pool 10 \
#       perf stat -e task-clock,context-switches,raw_syscalls:sys_enter -p {pid}
#   bench/echo/profile.sh build-echo/bin/echo_bench chronos-inline 10 strace -c -f -p {pid}
#   bench/echo/profile.sh build-echo/bin/echo_bench libevent 10 perf record -g -o perf.data -p {pid}
#
# (setsid: a session of its own, whose autogroup priority the script raises when run as root.)
# {pid} is replaced by the server's process id. The tool gets SIGINT when the load stops.
# Extra load-generator flags may be given in ECHO_BENCH_FLAGS (e.g. "--connections 50 --size 64"),
# extra server flags in ECHO_SERVER_FLAGS (e.g. "--workers 2").
set -euo pipefail
if [ $# -lt 4 ]; then
  sed -n '2,12p' "$0"
  exit 2
fi
bin=$1 kind=$2 seconds=$3
shift 3
dir=$(mktemp -d /tmp/echo_profile.XXXXXX)
server=
tool=
cleanup() {
  [ -n "$tool" ] && kill -INT "$tool" 2>/dev/null && wait "$tool" 2>/dev/null || true
  if [ -n "$server" ]; then
    kill -TERM "$server" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

# Like echo_bench itself: a session (autogroup) of our own at a high priority, when root.
echo -20 > /proc/self/autogroup 2>/dev/null || true
renice -n -20 -p $$ >/dev/null 2>&1 || true

taskset -c 0 "$bin" --serve="$kind" --port-file "$dir/port" --lifetime $((seconds + 120)) \
  ${ECHO_SERVER_FLAGS:-} &
server=$!
for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.05; done
read -r port _ < "$dir/port"

args=()
for a in "$@"; do args+=("${a//\{pid\}/$server}"); done
"${args[@]}" &
tool=$!
sleep 0.5  # let the tool attach
taskset -c 1 "$bin" --port "$port" --server-pid "$server" --seconds "$seconds" --warmup 0 \
  --rounds 1 --retries 0 ${ECHO_BENCH_FLAGS:-} | sed -n '/^round/p'
kill -INT "$tool" 2>/dev/null || true
wait "$tool" 2>/dev/null || true
tool=
