#!/usr/bin/env bash
# Instructions per echo message under callgrind: the whole `chronos --no-supervisor` process,
# one worker, one echo listener, a Python client doing N 64-byte round trips on one connection.
#
#   bench/echo_instructions.sh BUILD [inline|pool]    # prints (Ir(12000) - Ir(2000)) / 10000
#
# Pool mode's figure includes the workers' spin before they sleep, which varies between runs;
# inline is the steady one.
set -euo pipefail
build=$(cd "${1:?usage: $0 BUILD [inline|pool]}" && pwd) mode=${2:-inline}
dir=$(mktemp -d /tmp/echo_instructions.XXXXXX)
chmod 700 "$dir"
trap 'rm -rf "$dir"' EXIT
cat > "$dir/client.py" <<'PY'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
deadline = time.monotonic() + 120
while True:  # chronos under valgrind takes a few seconds to listen
    try:
        s = socket.create_connection(("127.0.0.1", port))
        break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.05)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for _ in range(n):
    s.sendall(b"x" * 64)
    got = 0
    while got < 64:
        d = s.recv(64 - got)
        if not d:
            raise SystemExit("closed")
        got += len(d)
PY
count() {  # count N: total Ir of a run with N messages
  local port=$((20000 + RANDOM % 20000))
  cat > "$dir/c.yaml" <<Y
workers: 1
queue_capacity: 1024
log: { level: warn }
plugins:
  - { name: echo, path: $build/plugins/echo.so }
listeners:
  - { name: e, address: 127.0.0.1:$port, plugin: echo, execution: $mode }
Y
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$build/bin/chronos" --no-supervisor \
    -c "$dir/c.yaml" 2> "$dir/err" &
  local vg=$!
  python3 "$dir/client.py" "$port" "$1"
  kill -TERM "$vg"
  wait "$vg" || true
  awk '/Collected/ {print $4}' "$dir/err"
}
a=$(count 2000)
b=$(count 12000)
echo $(((b - a) / 10000))
