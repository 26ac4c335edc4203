"""The sweep's report: `riptide report` draws both frontiers and the iso table; this adds the points
with their roofline efficiency, Riptide's per-step profile and the multi-turn TTFT by turn, to the
HTML page and to a Markdown summary."""
import html
import json
import os
import subprocess

import multiturn

PARTS = [("attention", "attention"), ("moe", "MoE"), ("head", "head"), ("forward_other", "other forward"), ("sampling", "sampling"), ("scheduler", "scheduler")]
COLORS = {"riptide": "#1f77b4", "llama-server": "#d62728"}


def step_bound(roof, decode_rows, prompt_rows):
    """Seconds a step of `decode_rows` decodes and `prompt_rows` prompt tokens (means may be fractional)
    needs at least: its unique bytes (dense weights, head, the expected union of routed experts over
    all its rows, the decodes' state) over the read bandwidth, or its weight FLOPs (the head for the
    decodes only) over the product peak, whichever is larger."""
    c, rows = roof["cost"], decode_rows + prompt_rows
    n, k = c["routedExperts"], c["activatedExperts"]
    experts = n * (1 - (1 - k / n) ** rows)
    read = (c["dense"] + c["head"] + rows * c["embedRow"] + sum(c["expert"]) * experts
            + decode_rows * roof["stateBytesPerSequence"])
    per_row = c["denseMACs"] + sum(c["expertMACs"])
    flops = 2 * (decode_rows * (per_row + c["headMACs"]) + prompt_rows * per_row)
    return max(read / (roof["readGBps"] * 1e9), flops / (roof["peakGflops"] * 1e9))


def step_kinds(point):
    """Riptide's decode-only and prompt-carrying steps of the point (counter deltas): count, mean ms,
    mean decode and prompt rows, and the bound of that mean step."""
    prof, roof = point.get("profile") or {}, point["roofline"]
    out = {}
    for kind in ("decode", "prompt"):
        steps = prof.get(f"riptide:steps_by_kind[{kind}]", 0)
        if steps <= 0 or "cost" not in roof:
            continue
        dec, pro = (prof.get(f"riptide:{r}_rows_by_kind[{kind}]", 0) / steps for r in ("decode", "prompt"))
        ms = prof.get(f"riptide:step_seconds_by_kind[{kind}]", 0) / steps * 1e3
        bound = step_bound(roof, dec, pro) * 1e3
        out[kind] = {"steps": int(steps), "ms": ms, "decode_rows": dec, "prompt_rows": pro, "bound_ms": bound,
                     "eff": bound / ms if ms > 0 else None}
    return out


def efficiency(point):
    row, roof = point["row"], point["roofline"]
    itl, ttft = row.get("median_itl"), row.get("median_ttft")
    decode = roof["decode"][0]
    return {
        "decode_bound_ms": decode["boundSeconds"] * 1e3, "itl_ms": (itl or 0) * 1e3,
        "decode_eff": decode["boundSeconds"] / itl if itl else None,
        "step_eff": step_kinds(point).get("decode", {}).get("eff"),
        "prefill_bound_ms": roof["prefill"]["boundSeconds"] * 1e3,
        "prefill_eff": roof["prefill"]["boundSeconds"] / ttft if ttft else None,
        "read_gbps": roof["readGBps"], "peak_gflops": roof["peakGflops"], "unique_mb": decode["bytes"] / 1e6,
    }


def points_table(points):
    head = ["server", "conc", "prompts", "tok/s/device", "tok/s/user", "TTFT p50 ms", "ITL p50 ms", "read GB/s",
            "unique MB", "step bound ms", "decode eff. (ITL)", "decode-step eff.", "prefill eff."]
    rows = []
    for p in points:
        r, e = p["row"], efficiency(p)
        rows.append([p["label"], p["conc"], f"{int(r.get('completed', 0))}/{p['prompts']}", f"{r.get('tput_per_gpu', 0):.1f}",
                     f"{r.get('median_intvty', 0):.2f}", f"{r.get('median_ttft', 0) * 1e3:.0f}", f"{e['itl_ms']:.1f}",
                     f"{e['read_gbps']:.1f}", f"{e['unique_mb']:.0f}", f"{e['decode_bound_ms']:.1f}",
                     pct(e["decode_eff"]), pct(e["step_eff"]), pct(e["prefill_eff"]) if p["conc"] == 1 else ""])
    return head, rows


def profile_table(points):
    head = ["conc", "steps", "rows/step"] + [name for _, name in PARTS] + ["step ms"]
    rows = []
    for p in points:
        prof = p.get("profile")
        if not prof or not prof.get("riptide:steps"):
            continue
        steps = prof["riptide:steps"]
        ms = [prof.get(f"riptide:step_seconds[{k}]", 0) / steps * 1e3 for k, _ in PARTS]
        rows.append([p["conc"], int(steps), f"{prof.get('riptide:step_rows', 0) / steps:.1f}"]
                    + [f"{v:.1f}" for v in ms] + [f"{sum(ms):.1f}"])
    return head, rows


def kinds_table(points):
    """Riptide's decode-only steps beside the steps that carry prompt chunks, each against its bound."""
    head = ["conc", "kind", "steps", "decode rows", "prompt rows", "step ms", "bound ms", "efficiency"]
    rows = []
    for p in points:
        for kind, k in step_kinds(p).items():
            rows.append([p["conc"], "decode only" if kind == "decode" else "with prompt tokens", k["steps"],
                         f"{k['decode_rows']:.1f}", f"{k['prompt_rows']:.1f}", f"{k['ms']:.1f}", f"{k['bound_ms']:.1f}",
                         pct(k["eff"])])
    return head, rows


def turns_table(turns):
    head, rows, ratios = ["server", "turn", "prompt tokens", "cached tokens", "TTFT p50 ms"], [], {}
    for name, t in turns.items():
        per = multiturn.by_turn(t["records"])
        for turn, ttft, prompt, cached in per:
            rows.append([name, turn, f"{prompt:.0f}", f"{cached:.0f}" if cached == cached else "", f"{ttft * 1e3:.0f}"])
        by = {turn: (ttft, prompt) for turn, ttft, prompt, _ in per}
        if 2 in by and max(by) in by:
            last = max(by)
            ratios[name] = (by[last][0] / by[2][0], by[last][1] / by[2][1], last)
    return head, rows, ratios


def pct(v):
    return f"{100 * v:.0f}%" if v is not None else ""


def html_table(caption, head, rows, table_id):
    h = f'<table id="{table_id}"><caption>{html.escape(caption)}</caption>\n<tr>' + "".join(f"<th>{html.escape(str(c))}</th>" for c in head) + "</tr>\n"
    for r in rows:
        h += "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>\n"
    return h + "</table>\n"


def md_table(head, rows):
    out = ["| " + " | ".join(map(str, head)) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(map(str, r)) + " |" for r in rows]
    return "\n".join(out) + "\n"


def ttft_chart(turns):
    """TTFT by turn, one polyline per server (no <path>: the render check counts frontier paths)."""
    series = {name: multiturn.by_turn(t["records"]) for name, t in turns.items()}
    series = {k: v for k, v in series.items() if v}
    if not series:
        return ""
    w, h, left, bottom, top, right = 560, 300, 60, 40, 20, 120
    max_turn = max(t for s in series.values() for t, *_ in s)
    max_ms = max(ttft for s in series.values() for _, ttft, *_ in s) * 1e3 * 1.1
    x = lambda t: left + (t - 1) / max(1, max_turn - 1) * (w - left - right)
    y = lambda ms: h - bottom - ms / max_ms * (h - top - bottom)
    svg = [f'<svg id="ttft-by-turn" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg" font-size="11">',
           f'<line x1="{left}" y1="{h - bottom}" x2="{w - right}" y2="{h - bottom}" stroke="#333"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{h - bottom}" stroke="#333"/>',
           f'<text x="{(left + w - right) / 2}" y="{h - 8}" text-anchor="middle">turn</text>',
           f'<text x="14" y="{(top + h - bottom) / 2}" text-anchor="middle" transform="rotate(-90 14 {(top + h - bottom) / 2})">median TTFT (ms)</text>']
    for t in range(1, max_turn + 1):
        svg.append(f'<text x="{x(t):.1f}" y="{h - bottom + 14}" text-anchor="middle">{t}</text>')
    for i in range(5):
        ms = max_ms * i / 4
        svg.append(f'<text x="{left - 6}" y="{y(ms) + 4:.1f}" text-anchor="end">{ms:.0f}</text>')
    for n, (name, s) in enumerate(series.items()):
        color = COLORS.get(name, "#2ca02c")
        pts = " ".join(f"{x(t):.1f},{y(ttft * 1e3):.1f}" for t, ttft, *_ in s)
        svg.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"/>')
        svg += [f'<circle cx="{x(t):.1f}" cy="{y(ttft * 1e3):.1f}" r="3" fill="{color}"/>' for t, ttft, *_ in s]
        svg.append(f'<text x="{w - right + 10}" y="{top + 16 * n + 10}" fill="{color}">{html.escape(name)}</text>')
    return "\n".join(svg) + "</svg>\n"


def write(args, points, turns, timing):
    rows_path = os.path.join(args.work, "rows.json")
    with open(rows_path, "w") as f:
        json.dump([p["row"] for p in points], f, indent=1)
    report = os.path.join(args.work, "report.html")
    subprocess.run([args.riptide, "report", rows_path, "--group-by", "label", "--format", "html", "--out", report], check=True)
    iso = subprocess.run([args.riptide, "report", rows_path, "--group-by", "label", "--format", "table"],
                         check=True, capture_output=True, text=True).stdout

    pts_head, pts_rows = points_table(points)
    prof_head, prof_rows = profile_table(points)
    kind_head, kind_rows = kinds_table(points)
    turn_head, turn_rows, ratios = turns_table(turns)
    roof_note = ("Step bound = the larger of the step's unique bytes (dense weights, the head once, the expected union of "
                 "routed experts for a batch of conc rows under uniform routing, the state) over the read bandwidth, and its "
                 "weight FLOPs over the product peak, both measured by `riptide roofline` just before the point. "
                 "Decode efficiency (ITL) = bound / median inter-token latency, which also pays for the prompt chunks "
                 "that share steps with decodes; decode-step efficiency (Riptide) = the bound of a decode-only step of "
                 "the point's mean batch / the mean time of its decode-only steps, from the engine's counters. "
                 "Prefill efficiency (conc 1) = the bound of a mean-length prompt / median TTFT.")
    ratio_lines = [f"{name}: TTFT at turn {last} / turn 2 = {r:.2f}× while the prompt grew {g:.2f}×"
                   for name, (r, g, last) in ratios.items()]
    extra = "<h2>Points against the roofline</h2>\n<p>" + html.escape(roof_note) + "</p>\n"
    extra += html_table("Every point, with its decode-step and prefill efficiency", pts_head, pts_rows, "efficiency")
    extra += "<h2>Where Riptide's step time goes</h2>\n<p>Per step, from the engine's own counters (ms); attention " \
             "includes its projections, compressor and indexer; MoE the routed and shared experts.</p>\n"
    extra += html_table("Riptide per-step profile by concurrency (ms per step)", prof_head, prof_rows, "profile")
    extra += "<p>Decode-only steps and steps that carry prompt chunks, each kind's mean step against the bound of " \
             "its mean mix of rows.</p>\n"
    extra += html_table("Riptide steps by kind", kind_head, kind_rows, "step-kinds")
    if turns:
        extra += f"<h2>Multi-turn agent traffic ({args.chats} chats × {args.turns} turns, ~{args.turn_tokens} new tokens " \
                 f"and {args.turn_output} back per turn, prefix caches on)</h2>\n" + ttft_chart(turns)
        extra += "<p>" + "<br>".join(html.escape(l) for l in ratio_lines) + "</p>\n"
        extra += html_table("TTFT by turn", turn_head, turn_rows, "turns")
    extra += f"<p>Sweep {timing['sweep_s'] / 60:.1f} min, multi-turn {timing['multiturn_s'] / 60:.1f} min, " \
             f"total {timing['total_s'] / 60:.1f} min. Prompts per point: conc × {args.prompts_per_conc} " \
             f"(InferenceX: × 10), warmups conc × {args.warmups_per_conc}.</p>\n"
    with open(report) as f:
        page = f.read()
    page = page.replace("</body>", extra + "</body>") if "</body>" in page else page + extra
    with open(report, "w") as f:
        f.write(page)

    summary = os.path.join(args.work, "summary.md")
    with open(summary, "w") as f:
        f.write("# Sweep: riptide vs llama-server\n\n```\n" + iso + "```\n\n" + roof_note + "\n\n" + md_table(pts_head, pts_rows))
        if prof_rows:
            f.write("\nRiptide per-step profile (ms per step):\n\n" + md_table(prof_head, prof_rows))
        if kind_rows:
            f.write("\nRiptide steps by kind, each against the bound of its mean mix of rows:\n\n" + md_table(kind_head, kind_rows))
        if turns:
            f.write("\nMulti-turn:\n\n" + md_table(turn_head, turn_rows) + "\n" + "\n".join(ratio_lines) + "\n")
            for name, t in turns.items():
                for e in t["errors"]:
                    f.write(f"\n{name} error: {e}")
        f.write(f"\n\nTiming: {json.dumps({k: round(v) for k, v in timing.items()})} s\n")
    print(open(summary).read())
    print(f"report: {report}")
