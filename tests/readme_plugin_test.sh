#!/usr/bin/env bash
# The README's "Write a plugin in five minutes", followed as written: its C, C++, CMake and YAML
# blocks are extracted, built against the installed SDK package, checked with `chronos -t`,
# served by chronos, and spoken to over loopback.
#
#   readme_plugin_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

build=$(realpath "$1")
source=$(realpath "$2")
chronos=$build/bin/chronos
work=$(mktemp -d)
pid=
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# The section's fenced blocks, by language, into the files the README names.
awk -v dir="$work" '
  /^## Write a plugin in five minutes/ { in_section = 1; next }
  /^## / { in_section = 0 }
  in_section && /^```/ {
    if (file) { close(file); file = ""; next }
    lang = substr($0, 4)
    if (lang == "c") file = dir "/my_upper.c"
    else if (lang == "c++") file = dir "/my_lines.cpp"
    else if (lang == "cmake") file = dir "/CMakeLists.txt"
    else if (lang == "yaml") file = dir "/my.yaml"
    else file = dir "/ignored." lang
    next
  }
  in_section && file { print > file }
' "$source/README.md"
for f in my_upper.c my_lines.cpp CMakeLists.txt my.yaml; do
  [[ -s $work/$f ]] || { echo "FAIL: README has no block for $f"; exit 1; }
done

cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
cd "$work"
cmake -S . -B build -DCMAKE_PREFIX_PATH="$work/prefix" >configure.log || { cat configure.log; exit 1; }
cmake --build build >build.log 2>&1 || { cat build.log; exit 1; }
if grep -q "warning" build.log; then cat build.log; echo "FAIL: warnings"; exit 1; fi

"$chronos" -t -c my.yaml | grep -qx "configuration OK"
"$chronos" -c my.yaml 2>chronos.log &
pid=$!

# Wait (with a deadline) until both listeners answer, then check the replies.
ask() {  # ask PORT TEXT: sends TEXT on a fresh connection and prints the first reply line
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf '%b' "$2" >&3
  local line=
  read -r -t 5 line <&3 || true
  exec 3<&-
  printf '%s' "$line"
}
for _ in $(seq 100); do
  if (ask 7100 'x\n') >/dev/null 2>&1; then break; fi
  sleep 0.05
done
upper=$(ask 7100 'shout\n')
lines=$(ask 7101 'first\nsecond\n')
[[ $upper == SHOUT ]] || { echo "FAIL: upper answered '$upper'"; cat chronos.log; exit 1; }
[[ $lines == "1: first" ]] || { echo "FAIL: lines answered '$lines'"; cat chronos.log; exit 1; }

kill -TERM "$pid"
wait "$pid"
pid=
echo "ok: the README plugins build, pass chronos -t and serve"
