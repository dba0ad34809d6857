#!/usr/bin/env bash
# Starts a throwaway server, deploys a trivial Python handler and prints warm latency and
# throughput (concurrency 1 and 16) and cold start figures. Figures vary with machine load:
# compare runs made side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${LAMBENT_BUILD_DIR:-build/release}"
lambent="$build/lambent"
bench="$build/invoke_bench"
[ -x "$bench" ] || { echo "build first: cmake --build --preset release" >&2; exit 1; }

data=$(mktemp -d)
ready="$data.ready"
"$lambent" serve --listen 127.0.0.1:0 --data-dir "$data" --ready-file "$ready" --log-level warn &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$data" "$ready"' EXIT
for _ in $(seq 1 200); do [ -s "$ready" ] && break; sleep 0.05; done
port=$(cat "$ready")
endpoint="http://127.0.0.1:$port"
eval "$("$lambent" env --data-dir "$data" --listen "127.0.0.1:$port")"

fn=$(mktemp -d)
cat > "$fn/app.py" <<'PY'
def handler(event, context):
    return {"ok": True}
PY
"$lambent" deploy bench-python "$fn" --runtime python3.12 --handler app.handler >/dev/null
rm -rf "$fn"

echo "Lambent invoke benchmark ($(nproc) cores, trivial Python handler, SigV4 on)"
"$bench" --endpoint "$endpoint" --function bench-python --concurrency 1 --seconds "${SECONDS_PER_RUN:-5}"
"$bench" --endpoint "$endpoint" --function bench-python --concurrency 16 --seconds "${SECONDS_PER_RUN:-5}"
"$bench" --endpoint "$endpoint" --function bench-python --cold "${COLD_STARTS:-30}"
