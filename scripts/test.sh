#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test: unit tests (CTest), runtime bootstrap
# tests and integration tests (pytest against the real binary), first on the release build and
# then on the dev build with AddressSanitizer and UndefinedBehaviorSanitizer.
# Set LAMBENT_SKIP_DEV=1 to run the release build only.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

run_suite() {
  local preset="$1"
  echo "=== $preset: build"
  bash scripts/build.sh "$preset"
  echo "=== $preset: unit tests"
  ctest --preset "$preset" -j 2
  # The two pytest suites each import helpers from their own conftest.py, so they run in
  # separate pytest processes.
  if [ "$preset" = release ]; then
    # The bootstraps and the example handlers do not depend on the C++ build, so they run once.
    echo "=== runtime bootstrap tests"
    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/runtimes
    echo "=== example handler tests"
    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/examples
  fi
  echo "=== $preset: integration tests"
  LAMBENT_BUILD_DIR="build/$preset" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
    tests/integration
}

run_suite release
if [ "${LAMBENT_SKIP_DEV:-0}" != "1" ]; then
  # Leaks at exit are not failures: the server's pools are torn down by the OS.
  export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  run_suite dev
fi
