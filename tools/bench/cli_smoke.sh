#!/usr/bin/env bash
# End-to-end smoke of the built CLI in separate processes:
#   fake_server.py (set TTFT/ITL/limit) → `riptide bench` sweep → JSON rows + SQLite store
#   → `riptide report` (table, json, html) → headless-Chromium render check.
# Also checks that a server failing 10% of requests makes `riptide bench` exit non-zero.
# Usage: tools/bench/cli_smoke.sh [RIPTIDE_BINARY] [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
RIPTIDE=${1:-.build/debug/riptide}
OUT=${2:-$(mktemp -d)}
mkdir -p "$OUT"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

start_server() {  # args → sets PORT
    local log="$OUT/server.$RANDOM.log"
    python3 tools/bench/fake_server.py "$@" > "$log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 50); do grep -q '^PORT' "$log" && break; sleep 0.1; done
    PORT=$(awk '/^PORT/{print $2}' "$log")
}

start_server --ttft 0.1 --itl 0.02 --max-concurrent 8
"$RIPTIDE" bench --base-url "http://127.0.0.1:$PORT" --isl 64 --osl 16 --conc 1,2,4,8,16 \
    --label fake-py --hardware cpu-test --out "$OUT/rows.json" --store "$OUT/history.sqlite" | tee "$OUT/bench.txt"
"$RIPTIDE" report "$OUT/history.sqlite" --format table
"$RIPTIDE" report "$OUT/rows.json" --format json --out "$OUT/iso.json"
"$RIPTIDE" report --store "$OUT/history.sqlite" --format html --out "$OUT/report.html"
python3 tools/report/render_check.py "$OUT/report.html" "$OUT/report.png" --groups 1

start_server --ttft 0.05 --itl 0.005 --max-concurrent 8 --fail-every 10
if "$RIPTIDE" bench --base-url "http://127.0.0.1:$PORT" --isl 32 --osl 4 --conc 2 --no-store --out "$OUT/fail.json"; then
    echo "FAIL: a server failing 10% of requests did not fail the point"; exit 1
fi
echo "cli_smoke: OK (outputs in $OUT)"
