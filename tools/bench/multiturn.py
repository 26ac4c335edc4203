"""Multi-turn agent traffic against an OpenAI-compatible server (used by sweep.py).

Each of `chats` concurrent chats runs `turns` turns. A turn sends the whole history (every earlier
turn's text and the answers the server gave) plus about `new_tokens` new tokens of text, streams
`max_tokens` tokens back through /v1/completions, and records its TTFT and the prompt and cached
tokens the server reports. The text is drawn from a fixed word list with a per-chat seed, so both
servers get the same new text every turn.
"""
import http.client
import json
import random
import threading
import time

WORDS = ("time person year way day thing man world life hand part child eye woman place work week case "
         "point government company number group problem fact river stone garden window letter market "
         "engine signal harbor winter summer bridge silver copper forest meadow valley island mountain "
         "orange purple yellow circle square pattern reason method system answer question number travel "
         "morning evening history science music picture language village station kitchen library").split()
WORDS_PER_TOKEN = 0.8  # measured: the DeepSeek-V4 tokenizer gives ~1.25 tokens per word of this list


def new_text(rng, tokens):
    return " " + " ".join(rng.choice(WORDS) for _ in range(int(tokens * WORDS_PER_TOKEN))) + "."


def stream_completion(host, port, model, prompt, max_tokens, extra):
    """One streamed /v1/completions call → (ttft_s, e2e_s, text, usage dict or None)."""
    body = {"model": model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0.0, "stream": True,
            "ignore_eos": True, "stream_options": {"include_usage": True}, **extra}
    conn = http.client.HTTPConnection(host, port, timeout=600)
    t0 = time.monotonic()
    conn.request("POST", "/v1/completions", json.dumps(body), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"HTTP {resp.status}: {resp.read()[:300]!r}")
    ttft, text, usage, timings = None, [], None, None
    for raw in resp:
        line = raw.decode().strip()
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            break
        chunk = json.loads(data)
        usage = chunk.get("usage") or usage
        timings = chunk.get("timings") or timings  # llama-server: prompt_n (computed), cache_n (reused)
        for choice in chunk.get("choices") or []:
            if choice.get("text"):
                ttft = ttft if ttft is not None else time.monotonic() - t0
                text.append(choice["text"])
    conn.close()
    if usage is not None and timings is not None:
        usage = {**usage, "llama_timings": timings}
    return ttft, time.monotonic() - t0, "".join(text), usage


def cached_tokens(usage):
    if not usage:
        return None
    details = usage.get("prompt_tokens_details") or {}
    if details.get("cached_tokens") is not None:
        return details["cached_tokens"]
    t = usage.get("llama_timings") or {}
    return t.get("cache_n")


def run(host, port, model, chats=4, turns=6, new_tokens=150, max_tokens=32, extra=None, seed=0):
    """→ list of per-turn records {chat, turn, ttft_s, e2e_s, prompt_tokens, cached_tokens}."""
    records, errors, lock = [], [], threading.Lock()

    def chat(i):
        rng = random.Random(seed * 1000 + i)
        history = f"Conversation {i}."
        for turn in range(1, turns + 1):
            history += new_text(rng, new_tokens)
            try:
                ttft, e2e, answer, usage = stream_completion(host, port, model, history, max_tokens, extra or {})
            except Exception as e:  # recorded, the chat stops
                with lock:
                    errors.append(f"chat {i} turn {turn}: {e}")
                return
            history += answer
            with lock:
                records.append({"chat": i, "turn": turn, "ttft_s": ttft, "e2e_s": e2e,
                                "prompt_tokens": (usage or {}).get("prompt_tokens"),
                                "cached_tokens": cached_tokens(usage)})

    threads = [threading.Thread(target=chat, args=(i,)) for i in range(chats)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(records, key=lambda r: (r["turn"], r["chat"])), errors


def by_turn(records):
    """→ [(turn, median TTFT s, mean prompt tokens, mean cached tokens)]."""
    out = []
    for turn in sorted({r["turn"] for r in records}):
        rows = [r for r in records if r["turn"] == turn and r["ttft_s"] is not None]
        if not rows:
            continue
        ttfts = sorted(r["ttft_s"] for r in rows)
        mid = len(ttfts) // 2
        median = ttfts[mid] if len(ttfts) % 2 else (ttfts[mid - 1] + ttfts[mid]) / 2
        mean = lambda k: (sum(r[k] for r in rows if r[k] is not None) / max(1, sum(r[k] is not None for r in rows)))
        out.append((turn, median, mean("prompt_tokens"), mean("cached_tokens")))
    return out
