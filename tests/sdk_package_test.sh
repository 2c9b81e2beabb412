#!/usr/bin/env bash
# The SDK as a package: install the build tree, build sdk/examples out of tree against it with
# find_package(ChronosSDK), and check each plugin exports its entry function and nothing else.
#
#   sdk_package_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

build=$1
source=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >"$work/install.log" ||
  { cat "$work/install.log"; exit 1; }
test -f "$work/prefix/include/chronos/plugin.h"
test -f "$work/prefix/lib/cmake/ChronosSDK/ChronosSDKConfig.cmake"

cmake -S "$source/sdk/examples" -B "$work/examples" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release >"$work/configure.log" || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/examples" -j2 >"$work/build.log" || { cat "$work/build.log"; exit 1; }

status=0
for plugin in upper counter; do
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
exit $status
