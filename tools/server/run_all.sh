#!/usr/bin/env bash
# Runs every `riptide serve` acceptance script in tools/server/ against one binary and ends with
# the line "N passed, N failed" (scripts). Each script starts and stops its own servers.
#
#   tools/server/run_all.sh [RIPTIDE_BINARY]      (default: .build/release/riptide)
#
# SERVER_FUZZ_CASES (default 10000) sets the schemathesis cases of test_load.py. The built-in
# model is written to a temporary RIPTIDE_CACHE unless one is set.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
riptide=$(realpath "${1:-$here/../../.build/release/riptide}")
[ -x "$riptide" ] || { echo "run_all.sh: $riptide is not an executable" >&2; exit 2; }
if [ -z "${RIPTIDE_CACHE:-}" ]; then
    RIPTIDE_CACHE=$(mktemp -d)
    trap 'rm -rf "$RIPTIDE_CACHE"' EXIT
fi
export RIPTIDE_CACHE PYTHONUNBUFFERED=1

scripts=(
    "test_openai_sdk.py"
    "test_tool_calls.py"
    "test_metrics.py"
    "test_bench_serving.py"
    "test_router.py"
    "test_load.py --cases ${SERVER_FUZZ_CASES:-10000}"
)
passed=0 failed=0 summary=()
for entry in "${scripts[@]}"; do
    read -r -a cmd <<<"$entry"
    start=$(date +%s)
    timeout --signal=TERM --kill-after=30 1800 python3 "$here/${cmd[0]}" --riptide "$riptide" "${cmd[@]:1}"
    rc=$?
    took=$(( $(date +%s) - start ))
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1)); summary+=("  ok    ${cmd[0]} (${took} s)")
    else
        failed=$((failed + 1)); summary+=("  FAIL  ${cmd[0]} (exit $rc, ${took} s)")
    fi
done
echo
echo "riptide serve acceptance scripts:"
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
