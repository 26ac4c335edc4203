#!/usr/bin/env bash
# Everything CI needs for the benchmark/report tool (issue 5). Run from the repository root:
#   tools/bench/ci.sh
# Prerequisites (once per machine):
#   apt-get update && apt-get install -y chromium      # render check
#   python3 -m pip install numpy                       # reference frontier (usually present)
# Steps (all bounded; ~3 min after the build on 2 cores):
#   1. unit + end-to-end tests (fake server with set TTFT/ITL/limit, sweep conc 1..16, 10% failures)
#   2. parity of `riptide report --format json` with tools/report/frontier.py (±0.5 tok/s, same nulls)
#   3. headless-Chromium render check of the e2e sweep's HTML report and of a multi-group report
#   4. CLI smoke in separate processes: bench → JSON + SQLite → report → render check; exit 1 on 10% failures
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-$(mktemp -d /tmp/riptide-bench-ci.XXXXXX)}
LOCK="flock /tmp/riptide-swift.lock"
$LOCK swift build --product riptide
RIPTIDE_BENCH_E2E_OUT="$OUT/e2e" $LOCK swift test --filter RiptideBenchTests
python3 tools/report/parity_check.py --riptide .build/debug/riptide --cases 200
python3 tools/report/render_check.py "$OUT/e2e/e2e-report.html" "$OUT/e2e-report.png" --groups 1
.build/debug/riptide report tools/report/fixtures/two_dates.csv tools/report/fixtures/edge_cases.csv \
    --format html --out "$OUT/multi.html" --iso 10,20,30,40,50,80,100
python3 tools/report/render_check.py "$OUT/multi.html" "$OUT/multi.png" --groups 6
tools/bench/cli_smoke.sh .build/debug/riptide "$OUT/smoke"
echo "bench ci: OK ($OUT)"
