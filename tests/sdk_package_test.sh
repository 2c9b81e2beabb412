#!/usr/bin/env bash
# The SDK as a package: install the build tree, build sdk/examples out of tree against it with
# find_package(ChronosSDK), check each plugin exports its entry function and nothing else, and
# serve the HTTP example (sdk/README.md's guide) with the chronos program, as a user would.
#
#   sdk_package_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

build=$1
source=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >"$work/install.log" ||
  { cat "$work/install.log"; exit 1; }
for header in plugin.h plugin.hpp plugin_config.h http.h http.hpp http_impl.h \
              http_impl_state.h http_impl_chars.h http_impl_first_line.h http_impl_fields.h \
              http_impl_framing.h http_impl_head.h http_impl_body.h http_impl_helpers.h; do
  test -f "$work/prefix/include/chronos/$header"
done
# ... and no header of the source tree is left out of that list or of the install.
for header in $(cd "$source/sdk/include/chronos" && ls); do
  [[ -f $work/prefix/include/chronos/$header ]] || { echo "FAIL: $header is not installed"; exit 1; }
done
test -f "$work/prefix/lib/cmake/ChronosSDK/ChronosSDKConfig.cmake"

cmake -S "$source/sdk/examples" -B "$work/examples" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release >"$work/configure.log" || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/examples" -j2 >"$work/build.log" || { cat "$work/build.log"; exit 1; }

status=0
for plugin in upper counter http_service; do
  so=$work/examples/$plugin.so
  if [[ ! -f $so ]]; then
    echo "FAIL: $plugin.so was not built"; status=1; continue
  fi
  exports=$(nm -D --defined-only "$so" | awk '{print $3}')
  if [[ $exports != chronos_plugin_entry ]]; then
    echo "FAIL: $plugin.so exports: $(echo $exports)"; status=1
  else
    echo "ok: $plugin.so exports chronos_plugin_entry only"
  fi
done
[[ $status -eq 0 ]] || exit $status

# The guide's service: GET /hello, POST /echo answered in chunks, 404, 405, a bad request.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/http.yaml" <<YAML
workers: 1
plugins:
  - { name: service, path: $work/examples/http_service.so }
listeners:
  - { name: web, address: 127.0.0.1:$port, plugin: service }
YAML
"$build/bin/chronos" -c "$work/http.yaml" 2>"$work/chronos.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  curl -s -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 0.05
done

expect() {  # expect WHAT GOT WANT
  if [[ "$2" != "$3" ]]; then
    echo "FAIL: $1: got '$2', want '$3'"; cat "$work/chronos.log"; exit 1
  fi
  echo "ok: $1"
}
url=http://127.0.0.1:$port
expect "GET /hello" "$(curl -s "$url/hello")" "hello, 127.0.0.1:$port"
expect "POST /echo body" "$(curl -s --data-binary 'some bytes' "$url/echo")" "some bytes"
expect "POST /echo is chunked" \
  "$(curl -s -D - -o /dev/null --data-binary x "$url/echo" | tr -d '\r' | grep -i '^transfer-encoding')" \
  "Transfer-Encoding: chunked"
expect "POST /echo with a chunked request body" \
  "$(printf 'abc' | curl -s -H 'Transfer-Encoding: chunked' --data-binary @- "$url/echo")" "abc"
expect "404" "$(curl -s -o /dev/null -w '%{http_code}' "$url/nothing")" "404"
expect "405" "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$url/hello")" "405"
expect "400 without Host" "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host:' "$url/hello")" "400"
