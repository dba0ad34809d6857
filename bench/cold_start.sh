#!/usr/bin/env bash
# Prints cold-start figures for each way `lambent serve --cold-start` starts environments:
# zygote (Python environments forked from a pre-started interpreter) and exec. For each it
# starts a throwaway server, deploys trivial Python and Node.js handlers and runs
# `invoke_bench --cold` (a configuration update before each invoke forces a cold start).
# Figures vary with machine load: compare the two paths within one run.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${LAMBENT_BUILD_DIR:-build/release}"
lambent="$build/lambent"
bench="$build/invoke_bench"
count="${COLD_STARTS:-50}"
[ -x "$bench" ] || { echo "build first: cmake --build --preset release" >&2; exit 1; }

fn=$(mktemp -d)
trap 'rm -rf "$fn"' EXIT
mkdir -p "$fn/python" "$fn/node"
cat > "$fn/python/app.py" <<'PY'
def handler(event, context):
    return {"ok": True}
PY
cat > "$fn/node/index.mjs" <<'JS'
export const handler = async () => ({ ok: true });
JS

run_path() {
  local mode="$1"
  local data ready server port
  data=$(mktemp -d)
  ready="$data.ready"
  "$lambent" serve --listen 127.0.0.1:0 --data-dir "$data" --ready-file "$ready" \
    --log-level warn --cold-start "$mode" &
  server=$!
  for _ in $(seq 1 200); do [ -s "$ready" ] && break; sleep 0.05; done
  port=$(cat "$ready")
  local endpoint="http://127.0.0.1:$port"
  eval "$("$lambent" env --data-dir "$data" --listen "127.0.0.1:$port")"
  "$lambent" deploy cold-python "$fn/python" --runtime python3.12 --handler app.handler >/dev/null
  "$lambent" deploy cold-node "$fn/node" --runtime nodejs20.x --handler index.handler >/dev/null
  echo "--cold-start $mode, Python:"
  "$bench" --endpoint "$endpoint" --function cold-python --cold "$count"
  echo "--cold-start $mode, Node.js (always exec):"
  "$bench" --endpoint "$endpoint" --function cold-node --cold "$count"
  kill "$server"
  wait "$server" 2>/dev/null || true
  rm -rf "$data" "$ready"
}

echo "Lambent cold starts ($(nproc) cores, $count per figure, trivial handlers)"
run_path zygote
run_path exec
