#!/usr/bin/env bash
# Builds a libFuzzer target with clang++-14 and runs it for a while.
#
#   tests/fuzz/run_fuzz.sh [seconds=60] [target=http_parser_fuzz | config_fuzz]
#
# Output (binary, growing corpus, log, crash files) goes to build-fuzz/ at the repository root
# (override with CHRONOS_FUZZ_DIR). The seeds in tests/fuzz/corpus/ are read, never written.
# Needs the Debian packages clang-14 and libclang-rt-14-dev.
set -euo pipefail

seconds=${1:-60}
target=${2:-http_parser_fuzz}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${CHRONOS_FUZZ_DIR:-$root/build-fuzz}
cxx=${CHRONOS_FUZZ_CXX:-clang++-14}

case $target in
  http_parser_fuzz)
    sources=(tests/fuzz/http_parser_fuzz.cpp plugins/http/http_parser.cpp
             plugins/http/http_plugin.cpp)
    seeds=tests/fuzz/corpus/http
    dict=(-dict="$root/tests/fuzz/http.dict")
    ;;
  config_fuzz)
    sources=(tests/fuzz/config_fuzz.cpp)
    seeds=tests/fuzz/corpus/config
    dict=()
    ;;
  *) echo "unknown target: $target" >&2; exit 2 ;;
esac

mkdir -p "$out/corpus-$target" "$out/crashes"
(cd "$root" && "$cxx" -std=c++20 -O1 -g -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -Isdk/include -Iplugins/http -Itests "${sources[@]}" -o "$out/$target")

# The first corpus folder receives what the fuzzer finds; the seeds only feed it.
echo "fuzzing $target for ${seconds}s; log: $out/$target.log"
status=0
"$out/$target" "${dict[@]}" -max_total_time="$seconds" -max_len=20000 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/crashes/" \
  "$out/corpus-$target" "$root/$seeds" >"$out/$target.log" 2>&1 || status=$?
grep -v -E '^#[0-9]+.*(NEW|REDUCE|pulse)|# Uses: |recommended dictionary' "$out/$target.log" | tail -n 40 || true
exit "$status"
