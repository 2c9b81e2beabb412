#!/usr/bin/env bash
# Builds a libFuzzer target with clang++-14 and runs it for a while.
#
#   tests/fuzz/run_fuzz.sh [seconds=60] [target=http_request_fuzz]
#   targets: http_request_fuzz http_response_fuzz http_split_fuzz http_plugin_fuzz config_fuzz
#
# Output (binary, growing corpus, log, crash files) goes to build-fuzz/ at the repository root
# (override with CHRONOS_FUZZ_DIR; CHRONOS_FUZZ_CXXFLAGS adds compiler flags). The seeds in
# tests/fuzz/corpus/ are read, never written.
# Exit status: 0 when the time ran out without a finding, else libFuzzer's (a crash, a broken
# invariant, a sanitizer report, a leak or a timeout); the crashing input is in
# build-fuzz/crashes/. Needs the Debian packages clang-14 and libclang-rt-14-dev.
#
# To add a target: a case below that sets `sources` (the .cpp files, paths from the repository
# root), `seeds` (folders under tests/fuzz/corpus/, space-separated) and `dict` (libFuzzer's
# -dict=..., or empty), and may add to `includes`; then name it in .ci/run's fuzzing section.
set -euo pipefail

seconds=${1:-60}
target=${2:-http_request_fuzz}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${CHRONOS_FUZZ_DIR:-$root/build-fuzz}
cxx=${CHRONOS_FUZZ_CXX:-clang++-14}
http_dict=(-dict="$root/tests/fuzz/http.dict")
includes=(-Isdk/include -Itests)  # a case may add its own (e.g. -Iplugins/http)

case $target in
  http_request_fuzz)
    sources=(tests/fuzz/http_request_fuzz.cpp)
    seeds=tests/fuzz/corpus/http_request
    dict=("${http_dict[@]}")
    ;;
  http_response_fuzz)
    sources=(tests/fuzz/http_response_fuzz.cpp)
    seeds=tests/fuzz/corpus/http_response
    dict=("${http_dict[@]}")
    ;;
  http_split_fuzz)
    # The same input format as the two above (a set-up byte, a split byte, the stream); bit 7
    # of the first byte picks responses, and the response seeds set it (the response target
    # ignores it), so both seed folders serve.
    sources=(tests/fuzz/http_split_fuzz.cpp)
    seeds="tests/fuzz/corpus/http_request tests/fuzz/corpus/http_response"
    dict=("${http_dict[@]}")
    ;;
  http_plugin_fuzz)
    # The shipped http plugin through the tests' fake host; the request seeds' format.
    sources=(tests/fuzz/http_plugin_fuzz.cpp plugins/http/http_plugin.cpp)
    seeds=tests/fuzz/corpus/http_request
    dict=("${http_dict[@]}")
    ;;
  config_fuzz)
    sources=(tests/fuzz/config_fuzz.cpp)
    seeds=tests/fuzz/corpus/config
    dict=()
    ;;
  *) echo "unknown target: $target" >&2; exit 2 ;;
esac

mkdir -p "$out/corpus-$target" "$out/crashes"
# shellcheck disable=SC2086  # CHRONOS_FUZZ_CXXFLAGS: one flag per word
(cd "$root" && "$cxx" -std=c++20 -O1 -g -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  ${CHRONOS_FUZZ_CXXFLAGS:-} "${includes[@]}" "${sources[@]}" -o "$out/$target")

seed_dirs=()
for s in $seeds; do seed_dirs+=("$root/$s"); done

# The first corpus folder receives what the fuzzer finds; the seeds only feed it.
echo "fuzzing $target for ${seconds}s; log: $out/$target.log"
status=0
"$out/$target" "${dict[@]}" -max_total_time="$seconds" -max_len=20000 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/crashes/$target-" \
  "$out/corpus-$target" "${seed_dirs[@]}" >"$out/$target.log" 2>&1 || status=$?
grep -v -E '^#[0-9]+.*(NEW|REDUCE|pulse)|# Uses: |recommended dictionary' "$out/$target.log" | tail -n 40 || true
exit "$status"
