#!/usr/bin/env bash
# Builds lambent, lambent-init and invoke_bench (release preset) and runs bench/bench.py, which
# measures Lambent and serverless-offline side by side and prints one table. Options go to
# bench.py, and `bench/run.sh --help` lists them. --skip-offline measures Lambent only, and
# --only PHASE[,PHASE...] (warm, cold, burst, spread, async, gateway) runs only those phases.
# Figures vary with machine load: compare figures from one run.
#
# `bench/run.sh stream [--size-mb N]` runs stream_bench instead: 1 GiB uploads and downloads
# through the HTTP server on loopback, printing MB/s and peak RSS growth per body framing.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${LAMBENT_BUILD_DIR:-build/release}"
if [ ! -f "$build/build.ninja" ] && [ ! -f "$build/Makefile" ]; then
  cmake --preset release >&2
fi
if [ "${1:-}" = stream ]; then
  shift
  cmake --build "$build" -j2 --target stream_bench >&2
  exec "$build/stream_bench" "$@"
fi
cmake --build "$build" -j2 --target lambent lambent-init invoke_bench >&2
exec python3 bench/bench.py --build-dir "$build" "$@"
