#!/usr/bin/env bash
# Run the `riptide bench` sweep against llama.cpp's llama-server (not run in CI).
#
#   tools/bench/llama_server_sweep.sh [--gguf PATH | --hf-dir DIR | --tiny-random] [--conc 1,2,4,8,16]
#                                     [--isl 256] [--osl 64] [--work DIR] [--riptide BIN] [--prepare]
#
# 1. pip-downloads the llama-cpp-python sdist and builds its vendored llama.cpp `llama-server` and
#    `llama-bench` with cmake (CPU only, no curl), cached under WORK. Its llama.cpp (0c1e570) has
#    DeepSeek-V4 (arch deepseek4): --hf-dir converts an `init-model --preset flash` checkpoint as
#    written (FP8 → Q8_0, FP4 experts → MXFP4 losslessly, bf16 head kept), e.g. for
#    `WORK/build/bin/llama-bench -m WORK/model-from-hf.gguf -t $(nproc) -p 512 -n 64` next to
#    `riptide bench-model --prefill 512 --tokens 64` on the same checkpoint.
# 2. Model: --gguf takes a GGUF as is; --hf-dir converts a Hugging Face-layout checkpoint (e.g. one
#    written by `riptide init-model --preset tiny-real`) with the vendored convert_hf_to_gguf.py;
#    --tiny-random (default) writes a tiny random LLaMA GGUF with tools/bench/make_tiny_gguf.py.
#    --prepare stops here (tools/bench/sweep.py drives the servers itself).
# 3. Starts llama-server on 127.0.0.1 (free port, --parallel = max conc), waits for /health,
#    runs `riptide bench`, then `riptide report` (table + HTML), and stops the server.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${WORK:-$ROOT/.build-llama}
LLAMA_CPP_PYTHON_VERSION=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
PREPARE=0; MODE=tiny; GGUF=""; HF_DIR=""; CONC=1,2,4,8,16; ISL=256; OSL=64
RIPTIDE=${RIPTIDE:-$ROOT/.build/release/riptide}
while [ $# -gt 0 ]; do
    case "$1" in
        --gguf) MODE=gguf; GGUF=$2; shift 2;;
        --hf-dir) MODE=hf; HF_DIR=$2; shift 2;;
        --tiny-random) MODE=tiny; shift;;
        --conc) CONC=$2; shift 2;;
        --isl) ISL=$2; shift 2;;
        --osl) OSL=$2; shift 2;;
        --work) WORK=$2; shift 2;;
        --riptide) RIPTIDE=$2; shift 2;;
        --prepare) PREPARE=1; shift;;
        *) echo "unknown option $1"; exit 2;;
    esac
done
mkdir -p "$WORK"
log() { echo "[$(date -u +%H:%M:%S)] $*"; }

# 1. llama-server from the llama-cpp-python sdist.
SERVER=$WORK/build/bin/llama-server
if [ ! -x "$SERVER" ] || [ ! -x "$WORK/build/bin/llama-bench" ]; then
    command -v cmake >/dev/null || { log "installing cmake from PyPI"; pip install -q cmake; }
    if ! ls "$WORK"/llama_cpp_python-*.tar.gz >/dev/null 2>&1; then
        log "pip download llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION (sdist)"
        pip download -q --no-deps --no-binary llama-cpp-python "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" -d "$WORK"
    fi
    rm -rf "$WORK/src" && mkdir -p "$WORK/src"
    tar -xzf "$WORK"/llama_cpp_python-*.tar.gz -C "$WORK/src" --strip-components=1
    log "building llama-server (cmake, Release, -j$(nproc))"
    cmake -S "$WORK/src/vendor/llama.cpp" -B "$WORK/build" -DCMAKE_BUILD_TYPE=Release \
        -DLLAMA_CURL=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
        -DGGML_NATIVE=ON > "$WORK/cmake-configure.log"
    nice cmake --build "$WORK/build" --target llama-server llama-bench -j"$(nproc)" > "$WORK/cmake-build.log"
fi
log "llama-server: $SERVER"

# 2. Model.
case "$MODE" in
    gguf) MODEL=$GGUF;;
    hf)
        # llama.cpp's own converter (it handles `riptide init-model` checkpoints, e.g. --preset tiny-real).
        # Its requirements file pins torch from download.pytorch.org, which is not reachable here:
        # install what the conversion needs from PyPI instead and use the vendored gguf-py.
        MODEL=$WORK/model-from-hf.gguf
        python3 -c "import torch" 2>/dev/null || pip install -q torch
        python3 -c "import transformers, sentencepiece" 2>/dev/null || pip install -q transformers sentencepiece
        PYTHONPATH="$WORK/src/vendor/llama.cpp/gguf-py" python3 "$WORK/src/vendor/llama.cpp/convert_hf_to_gguf.py" \
            "$HF_DIR" --outfile "$MODEL" --outtype auto;;
    tiny)
        MODEL=$WORK/tiny-random.gguf
        [ -f "$MODEL" ] || PYTHONPATH="$WORK/src/vendor/llama.cpp/gguf-py:${PYTHONPATH:-}" \
            python3 "$ROOT/tools/bench/make_tiny_gguf.py" "$MODEL";;
esac

[ "$PREPARE" = 1 ] && { log "model: $MODEL"; exit 0; }

# 3. Serve and sweep.
[ -x "$RIPTIDE" ] || (cd "$ROOT" && flock /tmp/riptide-swift.lock swift build -c release --product riptide)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
MAXC=$(echo "$CONC" | tr ',' '\n' | sort -n | tail -1)
# Per-slot context with 4x headroom: prompts are built with riptide's tokenizer, and the GGUF's own
# tokenizer can split the same text into several times more tokens.
CTX=$(( (4 * ISL + OSL + 64) * MAXC ))
"$SERVER" -m "$MODEL" --host 127.0.0.1 --port "$PORT" --parallel "$MAXC" --ctx-size "$CTX" \
    --threads "$(nproc)" --no-webui > "$WORK/llama-server.log" 2>&1 &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null || true' EXIT
for _ in $(seq 120); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.5; done
log "llama-server up on 127.0.0.1:$PORT (parallel $MAXC, ctx $CTX)"
"$RIPTIDE" bench --base-url "http://127.0.0.1:$PORT" --isl "$ISL" --osl "$OSL" --conc "$CONC" \
    --label llama-server --hardware "$(uname -m)-$(nproc)cpu" --framework llama.cpp \
    --out "$WORK/llama-rows.json" --store "$WORK/history.sqlite"
"$RIPTIDE" report "$WORK/llama-rows.json" --format table
"$RIPTIDE" report "$WORK/llama-rows.json" --format html --out "$WORK/llama-report.html"
log "report: $WORK/llama-report.html"
