#!/usr/bin/env python3
"""Bad input and load against `riptide serve`.

(a) schemathesis (PyPI) reads our /openapi.json and sends --cases generated requests (default
    10,000), positive and negative, to every operation; none may answer 5xx (no 503 either: the
    server is not draining) or fail at the connection, every 4xx of the JSON API must carry
    {"error": {"message", "type"}}, /health (polled throughout) stays 200, and afterwards the
    engine's memory ledger (/debug/invariants) is clean. The server runs with
    --context-length 256 --default-max-tokens 16, so that a random request (n up to 64) costs at
    most 64 × 256 tokens and 10,000 of them finish on 2 cores; each worker prints its progress
    every minute and the slowest calls at the end.
(b) 200 concurrent streaming connections (chat and completions) of which about 40% disconnect at
    random points (before the first byte, or after a few chunks): every connection that stayed
    ends with [DONE] and its full length, sglang:num_running_reqs and num_queue_reqs return to 0,
    and /debug/invariants is clean (nothing leaked).
(c) SIGTERM while 32 streams run: a new request gets 503 and /health 503 during the drain, all 32
    streams finish with [DONE] and their full length, and the process exits 0.

    python3 tools/server/test_load.py [--riptide PATH] [--cases 10000] [--workers 2] [--fuzz-threads 1] [--parts a,b,c]
"""
import asyncio
import collections
import json
import multiprocessing as mp
import random
import signal
import threading
import time

import aiohttp

from harness import Server, Suite, expect_equal, http_get, http_post, metric, parse_args, wait_until

args = parse_args(__doc__, lambda p: (
    p.add_argument("--cases", type=int, default=10000, help="schemathesis cases in part (a)"),
    p.add_argument("--workers", type=int, default=2, help="schemathesis worker processes"),
    p.add_argument("--budget", type=float, default=1200,
                   help="seconds part (a) may take; the workers stop there and the case fails, naming how far they got"),
    p.add_argument("--streams", type=int, default=200, help="concurrent streams in part (b)"),
    p.add_argument("--fuzz-threads", type=int, default=1,
                   help="RIPTIDE_THREADS of the server in part (a), leaving the other core to the generators"),
    p.add_argument("--parts", default="a,b,c")))
parts = set(args.parts.split(","))
suite = Suite("test_load")

JSON_API = ("/v1/", "/generate", "/abort_request")


# ---------------------------------------------------------------------------------------------
# (a) schemathesis


def fuzz_worker(wid, base, share, queue, budget):
    """Runs in its own process (hypothesis is not thread-safe): `share` cases, round after round
    over every operation and both generation modes, reporting counts and the first failures."""
    import harness
    harness._children.clear()  # the parent owns the server
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    import requests
    import schemathesis
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis.generation import GenerationMode

    schema = schemathesis.openapi.from_url(base + "/openapi.json")
    ops = [r.ok() for r in schema.get_all_operations()]
    session = requests.Session()
    statuses = collections.Counter()
    failures = []
    done = [0]
    started, last_report = time.time(), [time.time()]
    slowest = []   # (seconds, description) of the slowest calls
    unsatisfiable = set()
    heavy = {"/v1/chat/completions", "/v1/completions", "/generate"}

    def record_failure(op, mode, what, case, text=""):
        if len(failures) < 20:
            body = case.body if not isinstance(case.body, bytes) else case.body[:300]
            failures.append(f"{op.method.upper()} {op.path} [{mode.value}] {what}: body={str(body)[:300]} "
                            f"query={case.query} path={case.path_parameters} -> {text[:300]}")

    strategies = {}
    call_time, run_time = collections.Counter(), collections.Counter()

    def runner(op, mode, n):
        key = (op.path, op.method, mode)
        if key not in strategies:
            strategies[key] = op.as_strategy(generation_mode=mode)

        @settings(max_examples=n, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
                  verbosity=Verbosity.quiet)
        @given(strategies[key])
        def run(case):
            done[0] += 1
            t0 = time.time()
            try:
                r = case.call(base_url=base, session=session, timeout=120)
                took = time.time() - t0
                call_time[op.path] += took
                if len(slowest) < 5 or took > slowest[-1][0]:
                    body = case.body if isinstance(case.body, dict) else str(case.body)[:80]
                    slowest.append((took, f"{op.method.upper()} {op.path} -> {r.status_code}: "
                                          f"{json.dumps(body, default=str)[:160]}"))
                    slowest.sort(key=lambda s: -s[0])
                    del slowest[5:]
                if time.time() - last_report[0] >= 60:
                    last_report[0] = time.time()
                    print(f"    worker {wid}: {done[0]} of {share} cases after {time.time() - started:.0f} s", flush=True)
            except Exception as e:  # noqa: BLE001 - the connection failed: a crash or a hang
                statuses[(op.path, "error")] += 1
                record_failure(op, mode, f"{type(e).__name__}: {e}", case)
                session.close()
                return
            statuses[(op.path, r.status_code)] += 1
            if r.status_code >= 500:
                record_failure(op, mode, f"status {r.status_code}", case, r.text)
            elif 400 <= r.status_code < 500 and op.path.startswith(JSON_API):
                try:
                    err = json.loads(r.text)["error"]
                    assert isinstance(err["message"], str) and err["message"] and isinstance(err["type"], str)
                except Exception:  # noqa: BLE001
                    record_failure(op, mode, f"status {r.status_code} without an OpenAI error body", case, r.text)
        return run

    # Rounds over every operation and mode, so that each gets its share however the budget ends:
    # the generation endpoints most, the rest a few (a parameterless GET has one positive case).
    rnd = 0
    while done[0] < share and time.time() - started < budget:
        rnd += 1
        for op in ops:
            for mode in GenerationMode:
                key = (op.path, op.method, mode)
                left = share - done[0]
                if key in unsatisfiable or left <= 0 or time.time() - started >= budget:
                    continue
                n = min(left, 30 if op.path in heavy else 8)
                t0 = time.time()
                try:
                    runner(op, mode, n)()
                    run_time[op.path] += time.time() - t0
                except Unsatisfiable:
                    unsatisfiable.add(key)  # e.g. negative cases of a parameterless GET
                except Exception as e:  # noqa: BLE001
                    if len(failures) < 20:
                        failures.append(f"{op.method.upper()} {op.path} [{mode.value}] generation: {type(e).__name__}: {e}")
    queue.put({"worker": wid, "cases": done[0], "statuses": dict(statuses), "failures": failures, "rounds": rnd,
               "seconds": {p: (round(run_time[p], 1), round(call_time[p], 1)) for p in run_time},
               "slowest": [f"{t:.1f} s {d}" for t, d in slowest]})


class HealthWatch(threading.Thread):
    """Polls /health while a load runs; any answer but 200 (or no answer in 10 s) is recorded."""

    def __init__(self, url, interval=0.25):
        super().__init__(daemon=True)
        self.url, self.interval = url, interval
        self.stop_flag = threading.Event()
        self.polls, self.bad, self.slowest = 0, [], 0.0

    def run(self):
        while not self.stop_flag.is_set():
            t = time.time()
            try:
                status, text = http_get(self.url + "/health", timeout=10)
            except OSError as e:
                status, text = None, str(e)
            dt = time.time() - t
            self.slowest = max(self.slowest, dt)
            self.polls += 1
            if status != 200:
                self.bad.append(f"{time.strftime('%X')} {status} {text.strip()[:100]}")
            self.stop_flag.wait(self.interval)

    def stop(self):
        self.stop_flag.set()
        self.join(15)


def idle_and_clean(srv, timeout=60):
    """Waits for no running or queued requests, then requires a clean engine ledger."""
    def idle():
        m = srv.metrics()
        return metric(m, "sglang:num_running_reqs") == 0 and metric(m, "sglang:num_queue_reqs") == 0
    wait_until(idle, timeout, interval=0.2, what="num_running_reqs and num_queue_reqs to reach 0")
    status, text = srv.get("/debug/invariants")
    assert status == 200 and json.loads(text)["problems"] == [], f"/debug/invariants: {status} {text[:500]}"


if "a" in parts:
    env = {"RIPTIDE_THREADS": str(args.fuzz_threads)} if args.fuzz_threads else {}
    with Server(args.riptide, "--enable-test-hooks", "--context-length", 256, "--default-max-tokens", 16,
                name="fuzz", env=env) as srv:
        @suite.case(f"schemathesis: {args.cases} generated cases, no 5xx, /health stays 200, ledger clean")
        def _():
            watch = HealthWatch(srv.url)
            watch.start()
            t = time.time()
            ctx = mp.get_context("fork")
            queue = ctx.Queue()
            shares = [args.cases // args.workers + (1 if k < args.cases % args.workers else 0)
                      for k in range(args.workers)]
            procs = [ctx.Process(target=fuzz_worker, args=(k, srv.url, shares[k], queue, args.budget), daemon=True)
                     for k in range(args.workers)]
            for p in procs:
                p.start()
            results = []
            deadline = time.time() + args.budget + 300
            while len(results) < len(procs):
                try:
                    results.append(queue.get(timeout=5))
                except Exception:  # noqa: BLE001 - queue.Empty: check the workers are alive
                    dead = [p for p in procs if not p.is_alive() and p.exitcode not in (0, None)]
                    assert not dead, f"a schemathesis worker died with exit code {dead[0].exitcode}"
                    assert time.time() < deadline, f"schemathesis workers did not report within {args.budget + 300:.0f} s"
            for p in procs:
                p.join(10)
            took = time.time() - t
            watch.stop()
            cases = sum(r["cases"] for r in results)
            statuses = collections.Counter()
            for r in results:
                statuses.update({tuple(k) if isinstance(k, list) else k: v for k, v in r["statuses"].items()})
            by_status = collections.Counter()
            for (path, status), v in statuses.items():
                by_status[status] += v
            per_op = collections.defaultdict(dict)
            for (path, status), v in sorted(statuses.items(), key=lambda kv: str(kv[0])):
                per_op[path][status] = v
            print(f"    {cases} cases in {took:.0f} s ({cases / took:.1f} cases/s, {args.workers} workers); "
                  f"statuses {dict(sorted(by_status.items(), key=str))}")
            for path, st in per_op.items():
                print(f"      {path}: {st}")
            for r in results:
                print(f"    worker {r['worker']}: {r['rounds']} rounds; seconds (all, in calls) per path {r['seconds']}")
                for line in r["slowest"]:
                    print(f"      slow: {line}")
            print(f"    /health polled {watch.polls} times, slowest answer {watch.slowest:.2f} s")
            failures = [f for r in results for f in r["failures"]]
            assert cases >= args.cases, f"only {cases} cases ran within the budget of {args.budget:.0f} s"
            assert not failures, f"{len(failures)}+ failures:\n  " + "\n  ".join(failures[:10])
            assert not watch.bad, f"/health was not 200 {len(watch.bad)} times: {watch.bad[:5]}"
            expect_equal(srv.proc.poll(), None, "server still running")
            idle_and_clean(srv)
            expect_equal(srv.get("/health")[0], 200, "/health after the fuzz")


# ---------------------------------------------------------------------------------------------
# (b) concurrent streams with random disconnects


def stream_body(rng, model, i, max_tokens):
    if i % 2:
        return "/v1/chat/completions", {
            "model": model, "messages": [{"role": "user", "content": f"stream {i} " + "word " * rng.randint(1, 150)}],
            "max_tokens": max_tokens, "ignore_eos": True, "stream": True, "stream_options": {"include_usage": True}}
    return "/v1/completions", {
        "model": model, "prompt": [rng.randrange(1000, 120000) for _ in range(rng.randint(4, 300))],
        "max_tokens": max_tokens, "ignore_eos": True, "stream": True, "stream_options": {"include_usage": True}}


async def one_stream(session, base, path, body, plan, out):
    """plan: ('stay',), ('drop-early', seconds) or ('drop-after', chunks)."""
    kind = plan[0]
    events = []
    try:
        if kind == "drop-early":
            try:
                await asyncio.wait_for(_read_stream(session, base, path, body, events, None), plan[1])
                out["stay_by_accident"] += 1  # finished before the deadline
            except asyncio.TimeoutError:
                out["dropped"] += 1
            return
        limit = plan[1] if kind == "drop-after" else None
        await _read_stream(session, base, path, body, events, limit)
        if kind == "drop-after" and len(events) >= limit:
            out["dropped"] += 1
            return
        # Stayed connected (or a drop-after whose stream was shorter than the limit).
        if not events or events[-1] != "[DONE]":
            out["failures"].append(f"{path}: no [DONE] after {len(events)} events: {events[-2:]!r}")
            return
        chunks = [json.loads(e) for e in events[:-1]]
        errors = [c for c in chunks if "error" in c]
        usage = [c["usage"] for c in chunks if c.get("usage")]
        finishes = [ch.get("finish_reason") for c in chunks for ch in c.get("choices", []) if ch.get("finish_reason")]
        if errors or finishes != ["length"] or not usage or usage[-1]["completion_tokens"] != body["max_tokens"]:
            out["failures"].append(f"{path}: errors {errors[:1]} finishes {finishes} usage {usage[-1:]}")
            return
        out["completed"] += 1
    except Exception as e:  # noqa: BLE001
        out["failures"].append(f"{path} ({kind}): {type(e).__name__}: {e}")


async def _read_stream(session, base, path, body, events, limit):
    async with session.post(base + path, json=body, timeout=aiohttp.ClientTimeout(total=300)) as r:
        if r.status != 200:
            events.append(f"status {r.status}: {(await r.text())[:200]}")
            return
        async for raw in r.content:
            line = raw.decode().strip()
            if line.startswith("data: "):
                events.append(line[6:])
                if limit is not None and len(events) >= limit:
                    r.close()  # hang up mid-stream
                    return


async def storm(base, model, n, rng, max_tokens):
    out = {"completed": 0, "dropped": 0, "stay_by_accident": 0, "failures": []}
    plans = []
    for _ in range(n):
        x = rng.random()
        if x < 0.15:
            plans.append(("drop-early", rng.uniform(0.005, 0.5)))
        elif x < 0.4:
            plans.append(("drop-after", rng.randint(1, 12)))
        else:
            plans.append(("stay",))
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(one_stream(session, base, *stream_body(rng, model, i, max_tokens), plans[i], out)
                               for i in range(n)))
    out["stayers"] = sum(1 for p in plans if p[0] == "stay")
    return out


if "b" in parts:
    with Server(args.riptide, "--enable-test-hooks", name="streams") as srv:
        @suite.case(f"{args.streams} concurrent streams with random disconnects: stayers finish, nothing leaks")
        def _():
            rng = random.Random(2024)
            before = srv.metrics()
            watch = HealthWatch(srv.url, interval=0.5)
            watch.start()
            t = time.time()
            out = asyncio.run(storm(srv.url, srv.model, args.streams, rng, max_tokens=24))
            took = time.time() - t
            watch.stop()
            print(f"    {out['completed']} completed, {out['dropped']} disconnected on purpose "
                  f"({out['stay_by_accident']} finished before their disconnect) in {took:.1f} s")
            assert not out["failures"], f"{len(out['failures'])} failed:\n  " + "\n  ".join(out["failures"][:10])
            assert out["completed"] >= out["stayers"], f"{out['completed']} completed of {out['stayers']} that stayed"
            assert out["dropped"] > 0, "no stream was disconnected"
            idle_and_clean(srv)
            after = srv.metrics()
            aborted = metric(after, "sglang:num_aborted_requests_total") - metric(before, "sglang:num_aborted_requests_total")
            finished = metric(after, "sglang:num_requests_total") - metric(before, "sglang:num_requests_total")
            print(f"    server counted {finished:.0f} finished requests, {aborted:.0f} aborted")
            assert not watch.bad, f"/health was not 200: {watch.bad[:5]}"
            # The server still serves normally afterwards.
            status, text = srv.post("/v1/completions", {"prompt": [1, 2, 3], "max_tokens": 3, "ignore_eos": True})
            assert status == 200 and json.loads(text)["usage"]["completion_tokens"] == 3, f"{status} {text[:200]}"


# ---------------------------------------------------------------------------------------------
# (c) SIGTERM during 32 streams


async def drain_run(srv, n, max_tokens):
    rng = random.Random(7)
    started = asyncio.Event()
    first_chunks = [0]
    results = []

    async def one(session, i):
        path, body = stream_body(rng, srv.model, i, max_tokens)
        events = []
        async with session.post(srv.url + path, json=body, timeout=aiohttp.ClientTimeout(total=300)) as r:
            if r.status != 200:
                results.append(f"{path}: status {r.status} {(await r.text())[:200]}")
                return
            got_first = False
            async for raw in r.content:
                line = raw.decode().strip()
                if not line.startswith("data: "):
                    continue
                events.append(line[6:])
                chunk = json.loads(line[6:]) if line[6:] != "[DONE]" else {}
                if not got_first and any(c.get("text") or c.get("delta", {}).get("reasoning_content")
                                         or c.get("delta", {}).get("content") for c in chunk.get("choices", [])):
                    got_first = True
                    first_chunks[0] += 1
                    if first_chunks[0] == n:
                        started.set()
        if not events or events[-1] != "[DONE]":
            results.append(f"{path}: no [DONE] ({len(events)} events, last {events[-1:]!r})")
            return
        usage = [json.loads(e)["usage"] for e in events[:-1] if json.loads(e).get("usage")]
        if not usage or usage[-1]["completion_tokens"] != max_tokens:
            results.append(f"{path}: usage {usage[-1:]}")
            return
        results.append("ok")

    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks = [asyncio.create_task(one(session, i)) for i in range(n)]
        await asyncio.wait_for(started.wait(), 120)
        srv.signal(signal.SIGTERM)
        t = time.time()
        # The drain begins once the signal is handled (a request that comes in before that is still
        # admitted): /health turns 503, and then new requests are refused with 503.
        loop = asyncio.get_running_loop()
        health = None
        while time.time() - t < 10:
            health, _ = await loop.run_in_executor(None, lambda: http_get(srv.url + "/health", timeout=10))
            if health != 200:
                break
            await asyncio.sleep(0.01)
        status, text = await loop.run_in_executor(None, lambda: http_post(
            srv.url + "/v1/completions", {"prompt": [1, 2, 3], "max_tokens": 2}, timeout=10))
        running_at_refusal = sum(1 for task in tasks if not task.done())
        await asyncio.gather(*tasks)
        return results, status, text, health, running_at_refusal, time.time() - t


if "c" in parts:
    srv = Server(args.riptide, name="drain").start()
    try:
        @suite.case("SIGTERM during 32 streams: new requests 503, all 32 finish with [DONE], exit 0")
        def _():
            results, status, text, health, running, drain = asyncio.run(drain_run(srv, 32, max_tokens=96))
            bad = [r for r in results if r != "ok"]
            assert not bad, f"{len(bad)} of 32 streams lost:\n  " + "\n  ".join(bad[:10])
            expect_equal(len(results), 32, "streams")
            assert running > 0, "every stream had finished before the drain could be observed"
            expect_equal(status, 503, f"a new request while draining ({text[:200]})")
            assert json.loads(text)["error"]["code"] == "server_shutting_down", text
            expect_equal(health, 503, "/health while draining")
            code = srv.wait(60)
            expect_equal(code, 0, "exit status after the drain")
            print(f"    drained in {drain:.1f} s with {running} streams still running at the refusal")
    finally:
        srv.stop()
        srv.remove_log()

suite.exit()
