#!/usr/bin/env bash
# Installs what is missing, builds Chronos (Release) and runs it on configs/chronos.yaml
# (or on the configuration given as the first argument).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCHRONOS_BUILD_BENCH=OFF >/dev/null
cmake --build build -j2 --target chronos echo http
exec build/bin/chronos -c "${1:-configs/chronos.yaml}"
