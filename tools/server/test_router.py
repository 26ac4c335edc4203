#!/usr/bin/env python3
"""Two `riptide serve` replicas behind sglang-router (PyPI sglang-router, SGLang's Rust load
balancer) on loopback: 200 requests through the router all succeed, and both replicas served
some (each replica's /metrics sglang:num_requests_total), adding up to exactly 200.

    python3 tools/server/test_router.py [--riptide PATH] [--requests 200] [--policy cache_aware]
"""
import asyncio
import json
import random
import os
import subprocess
import sys
import tempfile
import time

import aiohttp

from harness import Server, Suite, expect_equal, free_port, http_get, metric, parse_args, track

args = parse_args(__doc__, lambda p: (p.add_argument("--requests", type=int, default=200),
                                      p.add_argument("--policy", default="cache_aware")))
suite = Suite("test_router")
R = random.Random(5)
WORDS = "river stone cloud lantern maple quartz harbor velvet ember meadow orbit cedar".split()


def request(i, model):
    """Distinct prompts, a mix of the routes the router forwards (with `model`: the router needs it)."""
    words = " ".join(R.choice(WORDS) for _ in range(R.randint(8, 40)))
    kind = i % 4
    if kind == 0:
        return "/v1/chat/completions", {"model": model, "messages": [{"role": "user", "content": f"{i}: {words}"}], "max_tokens": 6,
                                        "ignore_eos": True}
    if kind == 1:
        return "/v1/chat/completions", {"model": model, "messages": [{"role": "user", "content": f"{i}: {words}"}], "max_tokens": 6,
                                        "ignore_eos": True, "stream": True}
    if kind == 2:
        return "/v1/completions", {"model": model, "prompt": f"{i}: {words}", "max_tokens": 6, "ignore_eos": True}
    return "/v1/completions", {"model": model, "prompt": f"{i}: {words}", "max_tokens": 6, "ignore_eos": True, "stream": True}


async def send_all(base, n, model, conc=8):
    sem = asyncio.Semaphore(conc)
    failures = []

    async def one(session, i):
        path, body = request(i, model)
        async with sem:
            try:
                async with session.post(base + path, json=body, timeout=aiohttp.ClientTimeout(total=120)) as r:
                    text = await r.text()
                    if r.status != 200:
                        failures.append(f"#{i} {path}: {r.status} {text[:200]}")
                        return
                    if body.get("stream"):
                        events = [line[6:] for line in text.splitlines() if line.startswith("data: ")]
                        if not events or events[-1] != "[DONE]":
                            failures.append(f"#{i} {path}: stream did not end with [DONE]: {text[-200:]!r}")
                            return
                        finish = [c.get("finish_reason") for e in events[:-1] for c in json.loads(e).get("choices", [])]
                        if "length" not in finish:
                            failures.append(f"#{i} {path}: finish reasons {finish}")
                    else:
                        out = json.loads(text)
                        if out["usage"]["completion_tokens"] != 6:
                            failures.append(f"#{i} {path}: usage {out['usage']}")
            except Exception as e:  # noqa: BLE001
                failures.append(f"#{i} {path}: {type(e).__name__}: {e}")

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(one(session, i) for i in range(n)))
    return failures


def start_router(urls, port):
    log = tempfile.NamedTemporaryFile(prefix="sglang-router-", suffix=".log", delete=False)
    cmd = [sys.executable, "-m", "sglang_router.launch_router", "--host", "127.0.0.1", "--port", str(port),
           "--worker-urls", *urls, "--policy", args.policy, "--log-level", "warn",
           "--prometheus-port", str(free_port()), "--prometheus-host", "127.0.0.1"]
    proc = track(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
    proc.log_path = log.name
    return proc


with Server(args.riptide, name="replica-a") as a, Server(args.riptide, name="replica-b") as b:
    port = free_port()
    router = start_router([a.url, b.url], port)
    base = f"http://127.0.0.1:{port}"
    try:
        @suite.case("sglang-router starts and sees both replicas healthy")
        def _():
            deadline = time.time() + 90
            while True:
                assert router.poll() is None, f"router exited {router.returncode}:\n" + open(router.log_path).read()[-3000:]
                try:
                    status, text = http_get(base + "/v1/models", timeout=5)
                    if status == 200 and a.model in text:
                        break
                except OSError:
                    pass
                assert time.time() < deadline, "router not ready in 90 s:\n" + open(router.log_path).read()[-3000:]
                time.sleep(0.3)
            status, _ = http_get(base + "/health", timeout=10)
            expect_equal(status, 200, "router /health")

        @suite.case(f"{args.requests} requests through the router: none failed, both replicas served some")
        def _():
            before = [metric(s.metrics(), "sglang:num_requests_total") for s in (a, b)]
            failures = asyncio.run(send_all(base, args.requests, a.model))
            assert not failures, f"{len(failures)} failed:\n" + "\n".join(failures[:10])
            served = [metric(s.metrics(), "sglang:num_requests_total") - before[k] for k, s in enumerate((a, b))]
            print(f"    replica a served {served[0]:.0f}, replica b {served[1]:.0f} ({args.policy})")
            assert served[0] > 0 and served[1] > 0, f"one replica served nothing: {served}"
            expect_equal(sum(served), args.requests, "requests served by the two replicas")
            for s in (a, b):
                expect_equal(metric(s.metrics(), "sglang:num_aborted_requests_total"), 0, f"{s.name} aborted")
    finally:
        router.terminate()
        try:
            router.wait(timeout=15)
        except subprocess.TimeoutExpired:
            router.kill()
        os.unlink(router.log_path)

suite.exit()
