#!/usr/bin/env python3
"""SGLang's standalone bench_serving.py, and `riptide bench`, against `riptide serve`.

bench_serving.py is taken from the sglang 0.4.10 wheel on PyPI (`pip download sglang==0.4.10
--no-deps`, cached under $RIPTIDE_TOOLS_CACHE or ~/.cache/riptide-tools); it needs aiohttp,
numpy, requests, tqdm and transformers. It runs with `--backend vllm --dataset-name random-ids`
(streamed /v1/completions with ignore_eos) and a local tokenizer directory (the bundled
tokenizer.json plus a tokenizer_config.json) and must finish every request; the server's
counters must agree with what it sent. Then `riptide bench --isl 64 --osl 16 --conc 1,4` must
finish every point with no failed request.

    python3 tools/server/test_bench_serving.py [--riptide PATH] [--prompts 32]
"""
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

from harness import TOKENIZER_JSON, BOS, EOS, Server, Suite, expect_equal, metric, parse_args

SGLANG_VERSION = "0.4.10"
BENCH_SHA256 = "9ce8c39ea38a0decc3bed0af1210b5fc5028595922af7f1b49a1087121865598"
TOKENIZER_CONFIG = {
    "tokenizer_class": "PreTrainedTokenizerFast", "bos_token": BOS, "eos_token": EOS, "pad_token": EOS,
    "add_bos_token": False, "add_eos_token": False, "model_max_length": 1048576,
    "clean_up_tokenization_spaces": False,
}

args = parse_args(__doc__, lambda p: p.add_argument("--prompts", type=int, default=32))
suite = Suite("test_bench_serving")
work = tempfile.mkdtemp(prefix="bench-serving-")


def bench_serving_script():
    cache = os.environ.get("RIPTIDE_TOOLS_CACHE", os.path.expanduser("~/.cache/riptide-tools"))
    path = os.path.join(cache, f"sglang-{SGLANG_VERSION}", "bench_serving.py")
    if not os.path.exists(path):
        dl = tempfile.mkdtemp(prefix="sglang-wheel-")
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--disable-pip-version-check",
                        "-d", dl, f"sglang=={SGLANG_VERSION}"], check=True)
        wheel = glob.glob(os.path.join(dl, "sglang-*.whl"))[0]
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with zipfile.ZipFile(wheel) as z, open(path + ".part", "wb") as out:
            out.write(z.read("sglang/bench_serving.py"))
        os.replace(path + ".part", path)
        shutil.rmtree(dl, ignore_errors=True)
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    expect_equal(digest, BENCH_SHA256, f"SHA-256 of {path}")
    return path


def tokenizer_dir():
    d = os.path.join(work, "tokenizer")
    os.makedirs(d)
    shutil.copy(TOKENIZER_JSON, os.path.join(d, "tokenizer.json"))
    with open(os.path.join(d, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(TOKENIZER_CONFIG, f, ensure_ascii=False)
    return d


try:
    with Server(args.riptide, name="bench") as srv:
        @suite.case(f"sglang {SGLANG_VERSION} bench_serving.py --backend vllm --dataset-name random-ids: 0 failed")
        def _():
            script = bench_serving_script()
            out = os.path.join(work, "bench_serving.jsonl")
            before = srv.metrics()
            cmd = [sys.executable, script, "--backend", "vllm", "--base-url", srv.url, "--dataset-name", "random-ids",
                   "--tokenizer", tokenizer_dir(), "--num-prompts", str(args.prompts), "--random-input-len", "128",
                   "--random-output-len", "16", "--random-range-ratio", "0.5", "--max-concurrency", "8",
                   "--seed", "1", "--output-file", out, "--output-details", "--disable-tqdm",
                   "--warmup-requests", "1"]
            env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TRANSFORMERS_VERBOSITY="error",
                       TOKENIZERS_PARALLELISM="false")
            p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=work)
            tail = (p.stdout + p.stderr)[-3000:]
            assert p.returncode == 0, f"bench_serving.py exited {p.returncode}:\n{tail}"
            rows = [json.loads(line) for line in open(out)]
            expect_equal(len(rows), 1, "result rows")
            r = rows[0]
            errors = [e for e in r.get("errors", []) if e]
            assert not errors, f"{len(errors)} failed requests, first: {errors[0][:500]}"
            expect_equal(r["completed"], args.prompts, f"completed requests\n{tail}")
            expect_equal(len(r["output_lens"]), args.prompts, "output_lens")
            assert r["total_output_tokens"] >= args.prompts * 8, f"total_output_tokens {r['total_output_tokens']}"
            assert all(t > 0 for t in r["ttfts"]), "a request without a first token"
            after = srv.metrics()
            served = metric(after, "sglang:num_requests_total") - metric(before, "sglang:num_requests_total")
            expect_equal(served, args.prompts + 1, "requests the server finished (prompts + 1 warm-up)")
            aborted = metric(after, "sglang:num_aborted_requests_total")
            expect_equal(aborted, 0, "aborted requests")
            generated = metric(after, "sglang:generation_tokens_total") - metric(before, "sglang:generation_tokens_total")
            # ignore_eos: every request made exactly the output length it asked for.
            assert 0 <= generated - r["total_output_tokens"] <= 16, \
                f"server generated {generated} tokens, bench_serving counted {r['total_output_tokens']} (+ warm-up)"
            print(f"    {r['completed']} requests, {r['total_output_tokens']} output tokens, "
                  f"{r['output_throughput']:.0f} tok/s, median TTFT {r['median_ttft_ms']:.0f} ms")

        @suite.case("riptide bench --isl 64 --osl 16 --conc 1,4 completes every point")
        def _():
            out = os.path.join(work, "riptide-bench.json")
            p = subprocess.run([args.riptide, "bench", "--base-url", srv.url, "--isl", "64", "--osl", "16",
                                "--conc", "1,4", "--no-store", "--no-progress", "--out", out],
                               capture_output=True, text=True, timeout=600, cwd=work)
            tail = (p.stdout + p.stderr)[-3000:]
            assert p.returncode == 0, f"riptide bench exited {p.returncode}:\n{tail}"
            rows = json.load(open(out))
            expect_equal(sorted(int(row["conc"]) for row in rows), [1, 4], f"concurrencies in {out}")
            for row in rows:
                c = int(row["conc"])
                assert row["num_prompts"] >= c, f"conc {c}: {row['num_prompts']} prompts"
                expect_equal(row["completed"], row["num_prompts"], f"conc {c}: completed")
                expect_equal(row["failed"], 0, f"conc {c}: failed")
                expect_equal(row["total_output_tokens"] > 0, True, f"conc {c}: output tokens")
            print("    " + "\n    ".join(p.stdout.strip().splitlines()[-4:]))
finally:
    shutil.rmtree(work, ignore_errors=True)

suite.exit()
