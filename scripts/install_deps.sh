#!/usr/bin/env bash
# Installs every Debian 12 package Chronos needs to build, test and benchmark.
# Safe to run twice: it only asks apt for what is missing. Runs as root or through sudo.
set -euo pipefail

build_deps=(g++ cmake make pkg-config libyaml-cpp-dev libspdlog-dev libfmt-dev catch2 libcli11-dev)
test_deps=(curl clang-14 libclang-rt-14-dev dpkg-dev file)
bench_deps=(libconcurrentqueue-dev libboost-dev libtbb-dev libevent-dev libhttp-parser-dev nginx wrk)

want=("${build_deps[@]}" "${test_deps[@]}")
if [[ "${1:-}" == "--bench" || "${CHRONOS_BENCH_DEPS:-0}" == 1 ]]; then
  want+=("${bench_deps[@]}")
fi

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
