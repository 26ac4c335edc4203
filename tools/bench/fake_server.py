#!/usr/bin/env python3
"""Stand-alone OpenAI-compatible streaming server with set timings (stdlib asyncio only).

The Swift test suite has its own in-process server (Tests/RiptideBenchTests/FakeCompletionsServer);
this one runs the *release CLI* end to end in a separate process, so `riptide bench`'s reported
client CPU is the client's alone.

  fake_server.py --port 0 --ttft 0.1 --itl 0.02 --max-concurrent 8 [--fail-every 10]
Prints "PORT <n>" on stdout once listening (127.0.0.1 only).
"""
import argparse
import asyncio
import json
import sys


def chunk(writer, payload: bytes):
    writer.write(b"%x\r\n%s\r\n" % (len(payload), payload))


async def handle(reader, writer, args, gate, counter):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            if path.startswith("/v1/models"):
                out = json.dumps({"object": "list", "data": [{"id": "fake-model", "object": "model"}]}).encode()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(out), out))
                await writer.drain()
                continue
            counter[0] += 1
            if args.fail_every and counter[0] % args.fail_every == 0:
                out = b'{"error":{"message":"injected failure"}}'
                writer.write(b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(out), out))
                await writer.drain()
                continue
            req = json.loads(body or b"{}")
            n = max(int(req.get("max_tokens", 16)), 1)
            prompt_tokens = len(str(req.get("prompt", "")).split())
            async with gate:
                loop = asyncio.get_running_loop()
                start = loop.time()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
                for k in range(n):
                    # Deadline-based: token k at start + ttft + k*itl.
                    delay = start + args.ttft + k * args.itl - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    ev = {"id": "cmpl-fake", "object": "text_completion", "model": "fake-model",
                          "choices": [{"index": 0, "text": f" t{k}", "finish_reason": "length" if k == n - 1 else None}]}
                    chunk(writer, b"data: " + json.dumps(ev).encode() + b"\n\n")
                    await writer.drain()
                usage = {"id": "cmpl-fake", "choices": [], "usage": {"prompt_tokens": prompt_tokens,
                         "completion_tokens": n, "total_tokens": prompt_tokens + n}}
                chunk(writer, b"data: " + json.dumps(usage).encode() + b"\n\n")
                chunk(writer, b"data: [DONE]\n\n")
                writer.write(b"0\r\n\r\n")
                await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ttft", type=float, default=0.1)
    ap.add_argument("--itl", type=float, default=0.02)
    ap.add_argument("--max-concurrent", type=int, default=8)
    ap.add_argument("--fail-every", type=int, default=0)
    args = ap.parse_args()
    gate, counter = asyncio.Semaphore(args.max_concurrent), [0]
    server = await asyncio.start_server(lambda r, w: handle(r, w, args, gate, counter), "127.0.0.1", args.port)
    print("PORT", server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
