#!/usr/bin/env python3
"""/metrics read by Prometheus's own text-format parser (prometheus-client), and its counters
agree exactly with the requests sent.

A fresh server gets /v1/completions requests with token-id prompts of known lengths, ignore_eos
and max_tokens (so every count is known): plain, streamed, a batch of prompts, n > 1, a
/generate call, a chat request, a repeated long prompt (prefix cache), and a rejected request
(which must count nowhere). Then the sglang: request, prompt-token, generation-token,
cached-token and abort counters, the histogram counts and the gauges must equal what was sent.

    python3 tools/server/test_metrics.py [--riptide PATH]
"""
import asyncio
import json
import random

import aiohttp

from prometheus_client.parser import text_string_to_metric_families

from harness import Server, Suite, expect_equal, metric, parse_args, wait_until

args = parse_args(__doc__)
suite = Suite("test_metrics")
R = random.Random(11)
EXPECTED_TYPES = {
    "sglang:num_requests": "counter", "sglang:prompt_tokens": "counter", "sglang:generation_tokens": "counter",
    "sglang:cached_tokens": "counter", "sglang:num_aborted_requests": "counter",
    "sglang:num_running_reqs": "gauge", "sglang:num_queue_reqs": "gauge", "sglang:token_usage": "gauge",
    "sglang:cache_hit_rate": "gauge", "sglang:time_to_first_token_seconds": "histogram",
    "sglang:inter_token_latency_seconds": "histogram", "sglang:e2e_request_latency_seconds": "histogram",
    "sglang:queue_time_seconds": "histogram",
}


def ids(n):
    return [R.randrange(1000, 120000) for _ in range(n)]


with Server(args.riptide, name="metrics") as srv:
    sent = {"requests": 0, "prompt": 0, "generation": 0, "cached": 0}

    def account(usage, requests):
        """One response that was `requests` engine requests."""
        sent["requests"] += requests
        sent["prompt"] += usage["prompt_tokens"]
        sent["generation"] += usage["completion_tokens"]
        sent["cached"] += usage.get("prompt_tokens_details", {}).get("cached_tokens", 0)

    def completion(prompt, max_tokens, **extra):
        status, text = srv.post("/v1/completions", {"prompt": prompt, "max_tokens": max_tokens, "ignore_eos": True,
                                                    **extra})
        assert status == 200, f"status {status}: {text[:300]}"
        return json.loads(text)

    @suite.case("the exposition parses with prometheus_client, with SGLang's names and types")
    def _():
        status, text = srv.get("/metrics")
        expect_equal(status, 200, "status")
        families = {f.name: f for f in text_string_to_metric_families(text)}
        for name, kind in EXPECTED_TYPES.items():
            assert name in families, f"no metric family {name} (have {sorted(families)})"
            expect_equal(families[name].type, kind, f"type of {name}")
        m = srv.metrics()
        for name in ("sglang:num_requests_total", "sglang:prompt_tokens_total", "sglang:generation_tokens_total"):
            expect_equal(metric(m, name), 0, f"{name} on a fresh server")

    @suite.case("plain, streamed, batched and n=3 completions; /generate; chat")
    def _():
        for n_prompt, n_out in [(7, 5), (33, 1), (130, 12), (1, 3)]:
            r = completion(ids(n_prompt), n_out)
            expect_equal(r["usage"]["prompt_tokens"], n_prompt, "prompt_tokens")
            expect_equal(r["usage"]["completion_tokens"], n_out, "completion_tokens")
            account(r["usage"], 1)
        # Streamed, with include_usage.
        for n_prompt, n_out in [(20, 9), (64, 4)]:
            status, text = srv.post("/v1/completions", {
                "prompt": ids(n_prompt), "max_tokens": n_out, "ignore_eos": True, "stream": True,
                "stream_options": {"include_usage": True}})
            expect_equal(status, 200, "status")
            events = [line[6:] for line in text.splitlines() if line.startswith("data: ")]
            expect_equal(events[-1], "[DONE]", "last event")
            usage = json.loads(events[-2])["usage"]
            expect_equal(usage["completion_tokens"], n_out, "streamed completion_tokens")
            expect_equal(usage["prompt_tokens"], n_prompt, "streamed prompt_tokens")
            account(usage, 1)
        # A batch of 3 prompts: 3 engine requests.
        r = completion([ids(10), ids(11), ids(12)], 4)
        expect_equal(r["usage"]["prompt_tokens"], 33, "batch prompt_tokens")
        expect_equal(r["usage"]["completion_tokens"], 12, "batch completion_tokens")
        account(r["usage"], 3)
        # n=3: one engine request, one prompt, 3 choices.
        r = completion(ids(15), 6, n=3, temperature=1.0)
        expect_equal(len(r["choices"]), 3, "choices")
        expect_equal(r["usage"]["prompt_tokens"], 15, "n=3 prompt_tokens")
        expect_equal(r["usage"]["completion_tokens"], 18, "n=3 completion_tokens")
        account(r["usage"], 1)
        # Native /generate.
        status, text = srv.post("/generate", {"input_ids": ids(9), "sampling_params": {
            "max_new_tokens": 7, "ignore_eos": True}})
        expect_equal(status, 200, f"/generate status ({text[:200]})")
        meta = json.loads(text)["meta_info"]
        expect_equal(meta["prompt_tokens"], 9, "/generate prompt_tokens")
        expect_equal(meta["completion_tokens"], 7, "/generate completion_tokens")
        account({"prompt_tokens": 9, "completion_tokens": 7,
                 "prompt_tokens_details": {"cached_tokens": meta.get("cached_tokens", 0)}}, 1)
        # Chat.
        status, text = srv.post("/v1/chat/completions", {"messages": [{"role": "user", "content": "count me"}],
                                                        "max_tokens": 5, "ignore_eos": True})
        expect_equal(status, 200, "chat status")
        u = json.loads(text)["usage"]
        expect_equal(u["completion_tokens"], 5, "chat completion_tokens")
        account(u, 1)

    @suite.case("a repeated long prompt: cached tokens counted as reported")
    def _():
        prompt = ids(300)
        a = completion(prompt, 2)
        b = completion(prompt, 2)
        expect_equal(a["usage"]["prompt_tokens_details"]["cached_tokens"], 0, "first cached_tokens")
        cached = b["usage"]["prompt_tokens_details"]["cached_tokens"]
        assert 0 < cached < 300, f"second cached_tokens {cached}"
        account(a["usage"], 1)
        account(b["usage"], 1)

    @suite.case("rejected requests count nowhere")
    def _():
        for body in ({"prompt": ids(5), "max_tokens": -1}, {"prompt": "x", "model": "nope", "max_tokens": 2},
                     {"prompt": ids(5), "max_tokens": 10 ** 9}):
            status, _ = srv.post("/v1/completions", body)
            assert status in (400, 404), f"status {status} for {body}"

    @suite.case("counters equal what was sent; histograms counted once per request; gauges idle")
    def _():
        m = wait_until(lambda: (lambda m: m if metric(m, "sglang:num_running_reqs") == 0 else None)(srv.metrics()),
                       30, what="num_running_reqs 0")
        expect_equal(metric(m, "sglang:num_requests_total"), sent["requests"], "sglang:num_requests_total")
        expect_equal(metric(m, "sglang:prompt_tokens_total"), sent["prompt"], "sglang:prompt_tokens_total")
        expect_equal(metric(m, "sglang:generation_tokens_total"), sent["generation"], "sglang:generation_tokens_total")
        expect_equal(metric(m, "sglang:cached_tokens_total"), sent["cached"], "sglang:cached_tokens_total")
        expect_equal(metric(m, "sglang:num_aborted_requests_total"), 0, "sglang:num_aborted_requests_total")
        expect_equal(metric(m, "sglang:num_queue_reqs"), 0, "sglang:num_queue_reqs")
        expect_equal(metric(m, "sglang:e2e_request_latency_seconds_count"), sent["requests"], "e2e histogram count")
        expect_equal(metric(m, "sglang:queue_time_seconds_count"), sent["requests"], "queue-time histogram count")
        expect_equal(metric(m, "sglang:time_to_first_token_seconds_count"), sent["requests"], "TTFT histogram count")
        for h in ("sglang:e2e_request_latency_seconds", "sglang:time_to_first_token_seconds"):
            inf = metric(m, h + "_bucket", le="+Inf")
            expect_equal(inf, metric(m, h + "_count"), f"{h} +Inf bucket")
            assert metric(m, h + "_sum") > 0, f"{h}_sum is 0"
        rate = metric(m, "sglang:cache_hit_rate")
        assert 0 < rate <= 1, f"cache_hit_rate {rate} after a prefix hit"
        # The engine's step profile (riptide: gauges, totals since start): every uncached prompt
        # token was computed in some step, and no step computed more rows than were sent.
        rows = metric(m, "riptide:step_rows")
        assert metric(m, "riptide:steps") > 0, "riptide:steps is 0 after requests"
        assert sent["prompt"] - sent["cached"] <= rows <= sent["prompt"] + sent["generation"], \
            f"riptide:step_rows {rows} for {sent['prompt']} prompt ({sent['cached']} cached) and {sent['generation']} generated tokens"
        # Every step is of one kind, and every row is a generated token's decode or a prompt token.
        kinds = ("decode", "prompt")
        expect_equal(sum(metric(m, "riptide:steps_by_kind", kind=k) for k in kinds), metric(m, "riptide:steps"), "steps by kind")
        expect_equal(sum(metric(m, "riptide:decode_rows_by_kind", kind=k) + metric(m, "riptide:prompt_rows_by_kind", kind=k)
                         for k in kinds), rows, "decode and prompt rows by kind")
        expect_equal(metric(m, "riptide:prompt_rows_by_kind", kind="decode"), 0, "prompt rows in decode-only steps")
        assert metric(m, "riptide:decode_rows_by_kind", kind="decode") > 0, "no decode-only step"
        assert metric(m, "riptide:prompt_rows_by_kind", kind="prompt") >= sent["prompt"] - sent["cached"], "prompt rows"
        assert metric(m, "riptide:step_seconds_by_kind", kind="decode") > 0, "decode-only steps took no time"
        for part in ("attention", "moe", "head", "forward_other", "sampling", "scheduler"):
            seconds = metric(m, "riptide:step_seconds", part=part)
            assert seconds >= 0 and (seconds > 0 or part == "forward_other"), f"riptide:step_seconds{{part={part}}} = {seconds}"
        print(f"    {sent['requests']} requests, {sent['prompt']} prompt and {sent['generation']} generation tokens,"
              f" {sent['cached']} cached")

    @suite.case("a stream the client leaves counts as one request and one abort")
    def _():
        async def leave(i, after_events):
            body = {"prompt": ids(20), "max_tokens": 400, "ignore_eos": True, "stream": True}
            async with aiohttp.ClientSession() as session:
                async with session.post(srv.url + "/v1/completions", json=body) as r:
                    if after_events == 0:
                        return  # hang up as soon as the headers are in
                    seen = 0
                    async for raw in r.content:
                        if raw.startswith(b"data: "):
                            seen += 1
                            if seen >= after_events:
                                r.close()
                                return

        async def all_():
            await asyncio.gather(*(leave(i, i % 3) for i in range(6)))
        before = srv.metrics()
        asyncio.run(all_())
        wait_until(lambda: metric(srv.metrics(), "sglang:num_running_reqs") == 0, 30, what="num_running_reqs 0")
        # Each left stream: one finished request, aborted; its tokens so far are generation tokens.
        after = srv.metrics()
        requests = metric(after, "sglang:num_requests_total") - metric(before, "sglang:num_requests_total")
        aborted = metric(after, "sglang:num_aborted_requests_total") - metric(before, "sglang:num_aborted_requests_total")
        generated = metric(after, "sglang:generation_tokens_total") - metric(before, "sglang:generation_tokens_total")
        prompt = metric(after, "sglang:prompt_tokens_total") - metric(before, "sglang:prompt_tokens_total")
        expect_equal((requests, aborted), (6, 6), "(requests, aborted) counted for 6 disconnected streams")
        expect_equal(prompt, 6 * 20, "prompt tokens of the 6 disconnected streams")
        assert generated >= 0, generated


suite.exit()
