#!/usr/bin/env python3
"""Parity: `riptide report --format json` vs tools/report/frontier.py on CSV inputs.

Every cell must agree within ±0.5 tok/s and the same cells must be unreachable (null).
Cases: the committed fixtures plus seeded random sweeps (dominated points, ties in x, single-point
fronts, sweeps that turn back past the throughput peak, targets exactly on knots and edges).

Usage: parity_check.py [--riptide PATH] [--cases N]     (exit 1 on any mismatch)
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import frontier  # noqa: E402


def random_case(rng, path):
    rows = []
    for g in range(rng.integers(1, 5)):
        name = f"g{g}"
        kind = rng.integers(0, 4)
        if kind == 0:      # single point
            rows.append((name, 1, rng.uniform(10, 2000), rng.uniform(1, 200)))
            continue
        n = int(rng.integers(2, 14))
        concs = 2 ** np.arange(n)
        peak = rng.uniform(500, 20000)
        x0 = rng.uniform(20, 200)
        for i, c in enumerate(concs):
            x = x0 / (1 + 0.3 * i) * rng.uniform(0.9, 1.1)
            y = peak * (1 - np.exp(-0.5 * (i + 1)))
            if kind == 2 and i > n * 0.6:     # past the peak: both drop
                y *= 0.7 ** (i - n * 0.6)
            y *= rng.uniform(0.85, 1.1)
            rows.append((name, int(c), y, x))
        if kind == 3:                          # ties in x and dominated extras
            x, y = rows[-1][3], rows[-1][2]
            rows.append((name, 999, y * 1.1, x))
            rows.append((name, 998, y * 0.5, x * 0.5))
            rows.append((name, 997, y * 0.2, x))
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["group", "conc", "tput_per_gpu", "median_intvty"])
        for r in rows:
            w.writerow([r[0], r[1], repr(float(r[2])), repr(float(r[3]))])
    xs = [r[3] for r in rows]
    # Edges and knots exactly, plus a grid that runs past both ends.
    targets = sorted(set([float(v) for v in np.linspace(min(xs) * 0.5, max(xs) * 1.2, 25)]
                         + [float(v) for v in rng.choice(xs, size=min(6, len(xs)), replace=False)]))
    return targets


def compare(riptide, path, targets):
    iso = ",".join(repr(t) for t in targets) if targets else None
    cmd = [riptide, "report", path, "--format", "json"] + (["--iso", iso] if iso else [])
    ours = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    ref = frontier.iso_table(frontier.load_csv(path), targets)
    problems = []
    if set(ours["groups"]) != set(ref["groups"]):
        problems.append(f"groups {ours['groups']} vs {ref['groups']}")
    if len(ours["rows"]) != len(ref["rows"]):
        return problems + [f"{len(ours['rows'])} rows vs {len(ref['rows'])}"]
    cells = 0
    for a, b in zip(ours["rows"], ref["rows"]):
        if abs(a["interactivity"] - b["interactivity"]) > 1e-9:
            problems.append(f"target {a['interactivity']} vs {b['interactivity']}")
        for g in ref["groups"]:
            va, vb = a["values"].get(g), b["values"].get(g)
            cells += 1
            if (va is None) != (vb is None):
                problems.append(f"{g} @ {b['interactivity']}: riptide {va} vs reference {vb} (reachability)")
            elif va is not None and abs(va - vb) > 0.5:
                problems.append(f"{g} @ {b['interactivity']}: riptide {va} vs reference {vb}")
    return problems, cells


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--riptide", default=os.environ.get("RIPTIDE", ".build/debug/riptide"))
    ap.add_argument("--cases", type=int, default=200)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    failures, total_cells, nulls, worst = 0, 0, 0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        cases = [(os.path.join(HERE, "fixtures", f), None) for f in sorted(os.listdir(os.path.join(HERE, "fixtures")))]
        for k in range(a.cases):
            p = os.path.join(tmp, f"case{k}.csv")
            cases.append((p, random_case(rng, p)))
        for path, targets in cases:
            out = compare(a.riptide, path, targets)
            problems, cells = out if isinstance(out, tuple) else (out, 0)
            total_cells += cells
            if problems:
                failures += 1
                print(f"MISMATCH {path}:\n  " + "\n  ".join(problems[:10]))
    print(f"parity: {len(cases)} inputs, {total_cells} cells, {failures} mismatching inputs")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
