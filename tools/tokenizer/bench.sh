#!/usr/bin/env bash
# Tokenizer speed, Swift vs HF `tokenizers` single-threaded. Extra arguments go to bench.py
# (e.g. --per-line, --size 2000000, --repeat 10). Needs `pip install tokenizers`.
set -euo pipefail
cd "$(dirname "$0")/../.."
flock /tmp/riptide-swift.lock swift build -c release --product riptide >&2
exec python3 tools/tokenizer/bench.py "$@"
