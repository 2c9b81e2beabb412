#!/usr/bin/env bash
# The installed product, as a user meets it: `cmake --install BUILD --prefix P` gives the
# contract's layout (no internal header), P/bin/chronos runs on P/share/chronos/chronos.yaml
# (whose plugin paths point at P/lib/chronos/plugins), a plugin builds with plain
# `cc $(pkg-config --cflags chronos-sdk)`, and the README's embedding example builds and serves
# against P, with find_package(Chronos) and with `pkg-config chronos`.
#
#   install_test.sh BUILD_DIR SOURCE_DIR VERSION [SANITIZER]
#
# SANITIZER (the build's CHRONOS_SANITIZE): the installed library is instrumented then, so the
# embedding example is built with the same -fsanitize flags.
set -euo pipefail

build=$1
source=$2
version=$3
sanitize=()
case ${4:-} in
  address) sanitize=(-fsanitize=address,undefined) ;;
  thread) sanitize=(-fsanitize=thread) ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
p=$work/prefix
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }

cmake --install "$build" --prefix "$p" >"$work/install.log" || { cat "$work/install.log"; exit 1; }
for f in bin/chronos lib/chronos/plugins/echo.so lib/chronos/plugins/http.so \
         include/chronos/plugin.h include/chronos/plugin.hpp include/chronos/plugin_config.h \
         include/chronos/http.h include/chronos/http.hpp include/chronos/http_impl.h \
         include/chronos/http_impl_state.h include/chronos/http_impl_chars.h \
         include/chronos/http_impl_first_line.h include/chronos/http_impl_fields.h \
         include/chronos/http_impl_framing.h include/chronos/http_impl_head.h \
         include/chronos/http_impl_body.h include/chronos/http_impl_helpers.h \
         include/chronos/Runtime.hpp include/chronos/Config.hpp lib/libchronos_runtime.a \
         lib/cmake/Chronos/ChronosConfig.cmake lib/cmake/ChronosSDK/ChronosSDKConfig.cmake \
         lib/pkgconfig/chronos.pc lib/pkgconfig/chronos-sdk.pc share/chronos/chronos.yaml \
         lib/systemd/system/chronos.service; do
  [[ -f $p/$f ]] || fail "$f is not installed"
done
ok "the layout"
# Every header of runtime/src is internal: none may appear anywhere under the prefix.
for internal in $(cd "$source/runtime/src" && find . -name '*.hpp' -printf '%f\n'); do
  [[ -z $(find "$p" -name "$internal") ]] || fail "internal header $internal is installed"
done
ok "no internal header"
# One name per concept: the library must not define the SDK's C++ names, or an embedder that
# links a plugin.hpp handler into the same program breaks the one-definition rule.
clash=$(nm -C "$p/lib/libchronos_runtime.a" | grep -E 'chronos::(Connection|Host)(::|[^A-Za-z_])' || true)
[[ -z $clash ]] || fail "libchronos_runtime.a defines SDK names: $(echo "$clash" | head -3)"
ok "the library defines neither chronos::Connection nor chronos::Host"

[[ $("$p/bin/chronos" --version) == "chronos $version "* ]] || fail "--version: $("$p/bin/chronos" --version)"
ok "--version says $version"
out=$("$p/bin/chronos" -t -c "$p/share/chronos/chronos.yaml" 2>&1) || fail "-t on the example: $out"
[[ $out == *"configuration OK"* ]] || fail "-t on the example: $out"
grep -q "^ExecStart=$p/bin/chronos -c $p/share/chronos/chronos.yaml$" "$p/lib/systemd/system/chronos.service" ||
  fail "the unit's ExecStart: $(grep ExecStart "$p/lib/systemd/system/chronos.service")"
grep -q '^ExecReload=/bin/kill -HUP $MAINPID$' "$p/lib/systemd/system/chronos.service" || fail "ExecReload"
ok "the example configuration and the unit"

# A plugin with plain cc and pkg-config, no CMake.
export PKG_CONFIG_PATH=$p/lib/pkgconfig
# shellcheck disable=SC2046  # pkg-config's flags: one per word
cc -std=c11 -Wall -Wextra -Werror -shared -fPIC $(pkg-config --cflags chronos-sdk) \
  "$source/sdk/examples/upper.c" -o "$work/upper.so"
chmod go-w "$work" "$work/upper.so"
cat >"$work/upper.yaml" <<YAML
plugins:
  - { name: upper, path: upper.so }
listeners:
  - { name: upper, address: 127.0.0.1:0, plugin: upper }
YAML
out=$("$p/bin/chronos" -t -c "$work/upper.yaml" 2>&1) || fail "-t with the cc-built plugin: $out"
ok "a plugin built with cc \$(pkg-config --cflags chronos-sdk) loads"
printf '#include <chronos/http.h>\nint main(void) { chronos_http_parser p; chronos_http_parser_init(&p, 0); return 0; }\n' >"$work/http.c"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags chronos-sdk) "$work/http.c" -o "$work/http"
ok "chronos/http.h compiles as C from the prefix"

# The README's embedding example: CMake's find_package(Chronos), then pkg-config.
cmake -S "$source/tests/install" -B "$work/embed" -DCMAKE_PREFIX_PATH="$p" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS="${sanitize[*]}" >"$work/embed.log" 2>&1 || { cat "$work/embed.log"; exit 1; }
cmake --build "$work/embed" >>"$work/embed.log" 2>&1 || { cat "$work/embed.log"; exit 1; }
timeout 60 "$work/embed/embed" | grep -qx embedded || fail "the embedding example (CMake) did not echo"
ok "the embedding example, built with find_package(Chronos), serves"
# shellcheck disable=SC2046
c++ -std=c++20 "${sanitize[@]}" "$source/tests/install/embed.cpp" \
  $(pkg-config --cflags --libs chronos) -o "$work/embed-pc"
timeout 60 "$work/embed-pc" | grep -qx embedded || fail "the embedding example (pkg-config) did not echo"
ok "the embedding example, built with pkg-config chronos, serves"
