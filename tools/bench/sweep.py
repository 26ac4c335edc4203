#!/usr/bin/env python3
"""Riptide's InferenceX frontier beside llama-server's on one checkpoint, each point against the roofline.

  tools/bench/sweep.py [--work DIR] [--riptide BIN] [--conc 1,2,4,8,16] [--prompts-per-conc 3]
                       [--rounds 1] [--skip-llama] [--skip-multiturn] [--chats 4 --turns 6]
                       [--serve-args '--chunked-prefill-size 128']

1. Makes or reuses WORK/flash4 (`riptide init-model --preset flash --layers 4 --seed 0`: ratios
   0, 0, 4, 128, all 256 experts) and its GGUF (llama_server_sweep.sh --prepare: llama.cpp's own
   convert_hf_to_gguf.py, and llama-server built from the llama-cpp-python sdist).
2. The two servers do not fit in 24 GiB at once, so they take turns, `--rounds` times: `riptide
   serve` with prefix reuse off, then llama-server with --no-cache-prompt --cache-ram 0 (and
   cache_prompt false per request), threads = cores. Each point is one `riptide bench` run (ISL 512,
   OSL 128, range ratio 0.8, conc × --prompts-per-conc prompts), preceded by `riptide roofline
   --model` (read bandwidth and product peak measured then, the step's bounds from the model's shapes).
3. Decode efficiency = the step's bound at batch = conc over the median inter-token latency; prefill
   efficiency at conc 1 = the bound of a prompt of the point's mean length over the median TTFT.
   Riptide's per-step profile comes from its `riptide:` counters in /metrics, before and after each point;
   they also time its decode-only steps apart from the steps that carry prompt chunks, so its
   decode-step efficiency is also taken per step: the bound of a decode-only step of the mean batch
   over their mean time (and the same for the prompt steps, bounded by their mean mix).
4. Multi-turn: `--chats` chats of `--turns` turns against both servers with their prefix caches on.
5. Every row goes to WORK/history.sqlite; WORK/report.html holds both frontiers, the iso table, the
   points with their efficiency, the profile and the TTFT by turn; WORK/summary.md the same tables.
"""
import argparse
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import multiturn  # noqa: E402
import sweep_report  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http_get(port, path, timeout=5):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        return r.status, r.read().decode()


class Server:
    """A server process on a free port, up once GET /health answers 200."""

    def __init__(self, name, argv, port, log_path, ready_timeout=1800):
        self.name, self.port = name, port
        self.log = open(log_path, "w")
        log(f"starting {name}: {' '.join(argv)}")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + ready_timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{name} exited with {self.proc.returncode} before it was ready; see {log_path}")
            try:
                if http_get(port, "/health")[0] == 200:
                    log(f"{name} ready on port {port}")
                    return
            except Exception:
                pass
            time.sleep(1)
        self.stop()
        raise SystemExit(f"{name} was not ready after {ready_timeout} s; see {log_path}")

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def riptide_counters(port):
    """`riptide:*` samples of /metrics → {name{labels}: value}."""
    out = {}
    for line in http_get(port, "/metrics")[1].splitlines():
        m = re.match(r'^(riptide:[a-z_]+)(\{[^}]*\})?\s+(\S+)$', line)  # gauges holding totals since start
        if m:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
            part = labels.get("part") or labels.get("kind")
            key = m.group(1) + (f"[{part}]" if part else "")
            out[key] = float(m.group(3))
    return out


def roofline(args, batch, prompt, context):
    path = os.path.join(args.work, "roofline.json")
    subprocess.run([args.riptide, "roofline", "--model", args.model_dir, "--batch", str(batch), "--prompt", str(prompt),
                    "--context", str(context), "--mib", "256", "--repeat", "3", "--json", path],
                   check=True, stdout=subprocess.DEVNULL)
    with open(path) as f:
        return json.load(f)


def bench_point(args, server, label, framework, conc, extra_body):
    out = os.path.join(args.work, f"rows-{label}-{conc}.json")
    argv = [args.riptide, "bench", "--base-url", f"http://127.0.0.1:{server.port}", "--isl", str(args.isl),
            "--osl", str(args.osl), "--conc", str(conc), "--prompts-per-conc", str(args.prompts_per_conc),
            "--warmups-per-conc", str(args.warmups_per_conc), "--label", label, "--framework", framework,
            "--hardware", args.hardware, "--out", out, "--store", os.path.join(args.work, "history.sqlite"),
            "--no-progress"]
    if extra_body:
        argv += ["--extra-body", json.dumps(extra_body)]
    subprocess.run(argv, check=False)
    with open(out) as f:
        return json.load(f)[0]


def sweep(args, server, label, framework, extra_body, profiled):
    """One server's sweep → list of point records (row, roofline at the point, profile delta)."""
    points = []
    for conc in args.concs:
        mean_isl = args.isl * (1 + args.range_ratio) / 2
        roof = roofline(args, conc, int(mean_isl), int(mean_isl + args.osl / 2))
        before = riptide_counters(server.port) if profiled else None
        t0 = time.time()
        row = bench_point(args, server, label, framework, conc, extra_body)
        after = riptide_counters(server.port) if profiled else None
        profile = {k: after[k] - before.get(k, 0) for k in after} if profiled else None
        points.append({"label": label, "conc": conc, "row": row, "roofline": roof, "profile": profile,
                       "prompts": args.prompts_per_conc * conc, "wall_s": time.time() - t0})
        log(f"{label} conc {conc}: {row.get('tput_per_gpu', 0):.1f} tok/s/device, "
            f"{row.get('median_intvty', 0):.2f} tok/s/user, {time.time() - t0:.0f} s")
    return points


def riptide_server(args, prefix_cache, max_running):
    port = free_port()
    argv = [args.riptide, "serve", args.model_dir, "--port", str(port), "--state-memory", "2GiB",
            "--max-running-requests", str(max_running), "--log-level", "warning"]
    if not prefix_cache:
        argv.append("--disable-prefix-cache")
    argv += shlex.split(args.serve_args)
    return Server("riptide", argv, port, os.path.join(args.work, "riptide-serve.log"))


def llama_server(args, prefix_cache, parallel, ctx_per_slot):
    port = free_port()
    argv = [args.llama_server, "-m", args.gguf, "--host", "127.0.0.1", "--port", str(port), "--parallel", str(parallel),
            "--ctx-size", str(parallel * ctx_per_slot), "--threads", str(os.cpu_count()), "--threads-batch",
            str(os.cpu_count()), "--sse-ping-interval", "-1", "--no-webui", "--metrics"]
    if not prefix_cache:
        argv += ["--no-cache-prompt", "--cache-ram", "0"]
    return Server("llama-server", argv, port, os.path.join(args.work, "llama-server.log"))


def prepare(args):
    if not os.path.exists(os.path.join(args.model_dir, "config.json")):
        log(f"writing the flash --layers 4 checkpoint to {args.model_dir} (about 10 minutes)")
        subprocess.run([args.riptide, "init-model", "--preset", "flash", "--layers", "4", "--seed", "0",
                        "--out", args.model_dir], check=True)
    if args.skip_llama:
        return
    if not (os.path.exists(args.gguf) and os.access(args.llama_server, os.X_OK)):
        subprocess.run([os.path.join(ROOT, "tools/bench/llama_server_sweep.sh"), "--prepare", "--hf-dir", args.model_dir,
                        "--work", args.llama_work], check=True)
        os.replace(os.path.join(args.llama_work, "model-from-hf.gguf"), args.gguf)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", default=os.path.join(ROOT, ".build-sweep"))
    p.add_argument("--riptide", default=os.path.join(ROOT, ".build/release/riptide"))
    p.add_argument("--model-dir", help="flash-shaped checkpoint (default WORK/flash4, made when absent)")
    p.add_argument("--gguf", help="its GGUF conversion (default WORK/flash4.gguf, made when absent)")
    p.add_argument("--llama-work", default=os.path.join(ROOT, ".build-llama"), help="llama.cpp build directory")
    p.add_argument("--conc", default="1,2,4,8,16")
    p.add_argument("--isl", type=int, default=512)
    p.add_argument("--osl", type=int, default=128)
    p.add_argument("--range-ratio", type=float, default=0.8)
    p.add_argument("--prompts-per-conc", type=int, default=3, help="InferenceX uses 10; 3 fits both sweeps in 45 minutes here")
    p.add_argument("--warmups-per-conc", type=int, default=1)
    p.add_argument("--rounds", type=int, default=1, help="Riptide then llama-server, this many times")
    p.add_argument("--chats", type=int, default=4)
    p.add_argument("--turns", type=int, default=6)
    p.add_argument("--turn-tokens", type=int, default=150)
    p.add_argument("--turn-output", type=int, default=32)
    p.add_argument("--serve-args", default="", help="more `riptide serve` options, e.g. '--chunked-prefill-size 128'")
    p.add_argument("--skip-llama", action="store_true")
    p.add_argument("--skip-sweep", action="store_true", help="reuse WORK/points.json")
    p.add_argument("--skip-multiturn", action="store_true")
    p.add_argument("--hardware", default=f"cpu-{os.cpu_count()}core")
    args = p.parse_args()
    args.work = os.path.abspath(args.work)
    os.makedirs(args.work, exist_ok=True)
    args.model_dir = os.path.abspath(args.model_dir or os.path.join(args.work, "flash4"))
    args.gguf = os.path.abspath(args.gguf or os.path.join(args.work, "flash4.gguf"))
    args.llama_server = os.path.join(args.llama_work, "build/bin/llama-server")
    args.concs = [int(c) for c in args.conc.split(",")]
    start = time.time()
    prepare(args)
    log(f"prepared in {time.time() - start:.0f} s")

    points_path, turns_path = os.path.join(args.work, "points.json"), os.path.join(args.work, "multiturn.json")
    sweep_start = time.time()
    if not args.skip_sweep:
        points = []
        for _ in range(args.rounds):
            s = riptide_server(args, prefix_cache=False, max_running=max(args.concs))
            try:
                points += sweep(args, s, "riptide", "riptide", {}, profiled=True)
            finally:
                s.stop()
            if not args.skip_llama:
                s = llama_server(args, prefix_cache=False, parallel=max(args.concs), ctx_per_slot=2 * (args.isl + args.osl))
                try:
                    points += sweep(args, s, "llama-server", "llama.cpp", {"cache_prompt": False}, profiled=False)
                finally:
                    s.stop()
        with open(points_path, "w") as f:
            json.dump(points, f, indent=1)
    with open(points_path) as f:
        points = json.load(f)
    sweep_s = time.time() - sweep_start

    turns_start = time.time()
    turns = {}
    if not args.skip_multiturn:
        ctx = 2 * args.turns * (args.turn_tokens + args.turn_output) + 512
        servers = [("riptide", lambda: riptide_server(args, prefix_cache=True, max_running=args.chats))]
        if not args.skip_llama:
            servers.append(("llama-server", lambda: llama_server(args, prefix_cache=True, parallel=args.chats, ctx_per_slot=ctx)))
        for name, start_server in servers:
            s = start_server()
            try:
                model = json.loads(http_get(s.port, "/v1/models")[1])["data"][0]["id"]
                records, errors = multiturn.run("127.0.0.1", s.port, model, args.chats, args.turns, args.turn_tokens,
                                                args.turn_output, extra={"cache_prompt": True} if name == "llama-server" else {})
                turns[name] = {"records": records, "errors": errors}
                log(f"{name} multi-turn: {len(records)} turns, {len(errors)} errors")
            finally:
                s.stop()
        with open(turns_path, "w") as f:
            json.dump(turns, f, indent=1)
    elif os.path.exists(turns_path):
        with open(turns_path) as f:
            turns = json.load(f)

    timing = {"sweep_s": sweep_s, "multiturn_s": time.time() - turns_start, "total_s": time.time() - start}
    sweep_report.write(args, points, turns, timing)
    groups = len({pt["label"] for pt in points})
    subprocess.run([sys.executable, os.path.join(ROOT, "tools/report/render_check.py"), os.path.join(args.work, "report.html"),
                    os.path.join(args.work, "report.png"), "--groups", str(groups)], check=True)


if __name__ == "__main__":
    main()
