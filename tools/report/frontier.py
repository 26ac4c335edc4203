#!/usr/bin/env python3
"""Independent reference for `riptide report --format json` (inferencex-method.md §1), numpy only.

Written from the spec text, not from the Swift code, and deliberately by a different route:
  * the front is found by brute-force dominance (O(n^2)) instead of the stack walk;
  * slopes are computed with vectorised numpy; evaluation uses np.searchsorted.

Usage: frontier.py INPUT.csv [--iso 10,20,30]   (CSV header: group,conc,tput_per_gpu,median_intvty)
Prints {"groups": [...], "rows": [{"interactivity": x, "values": {group: y or null}}]}.
"""
import argparse
import csv
import json
import sys

import numpy as np


def pareto_front(xs, ys):
    """Upper-right non-dominated set: drop a point if another has x >= and y >= (method §1)."""
    pts = np.array([(x, y) for x, y in zip(xs, ys)
                    if np.isfinite(x) and np.isfinite(y) and x > 0], dtype=float).reshape(-1, 2)
    if len(pts) == 0:
        return pts
    pts = np.unique(pts, axis=0)  # exact duplicates would dominate each other
    x, y = pts[:, 0], pts[:, 1]
    ge_x = x[None, :] >= x[:, None]     # [i, j]: j has x >= x_i
    ge_y = y[None, :] >= y[:, None]
    dominated = (ge_x & ge_y)
    np.fill_diagonal(dominated, False)
    keep = ~dominated.any(axis=1)
    front = pts[keep]
    return front[np.argsort(front[:, 0])]


def steffen_slopes(x, y):
    n = len(x)
    if n < 2:
        return np.zeros(n)
    h = np.diff(x)
    s = np.where(h == 0, 0.0, np.diff(y) / np.where(h == 0, 1.0, h))
    if n == 2:
        return np.array([s[0], s[0]])
    s0, s1, h0, h1 = s[:-1], s[1:], h[:-1], h[1:]
    p = (s0 * h1 + s1 * h0) / (h0 + h1)
    sgn = lambda v: np.where(v < 0, -1.0, 1.0)  # sign(0) = +1
    m_in = (sgn(s0) + sgn(s1)) * np.minimum(np.minimum(np.abs(s0), np.abs(s1)), 0.5 * np.abs(p))
    m_in = np.nan_to_num(m_in, nan=0.0)
    m = np.empty(n)
    m[1:-1] = m_in
    m[0] = (3 * s[0] - m[1]) / 2            # d3 slope2 at the ends
    m[-1] = (3 * s[-1] - m[-2]) / 2
    return m


def interpolate(front, target):
    if len(front) == 0 or not np.isfinite(target):
        return None
    x, y = front[:, 0], front[:, 1]
    if len(front) == 1:
        return float(y[0]) if abs(target - x[0]) <= 1e-6 else None
    if target < x[0] or target > x[-1]:
        return None
    m = steffen_slopes(x, y)
    i = int(np.clip(np.searchsorted(x, target, side="right") - 1, 0, len(x) - 2))
    h = x[i + 1] - x[i]
    t = (target - x[i]) / h
    basis = np.array([2 * t**3 - 3 * t**2 + 1, t**3 - 2 * t**2 + t, -2 * t**3 + 3 * t**2, t**3 - t**2])
    v = basis @ np.array([y[i], h * m[i], y[i + 1], h * m[i + 1]])
    return float(np.clip(v, y.min(), y.max()))


def load_csv(path):
    groups = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            g = row["group"].strip()
            groups.setdefault(g, ([], []))
            groups[g][0].append(float(row["median_intvty"]))
            groups[g][1].append(float(row["tput_per_gpu"]))
    return groups


def default_targets(fronts):
    mx = max((f[-1, 0] for f in fronts.values() if len(f)), default=0.0)
    if mx <= 0:
        return []
    step = 10.0
    if mx < 20:
        step = next((c for c in [5, 2, 1, 0.5, 0.2, 0.1] if mx / c >= 4), 0.1)
    if mx / step > 20:  # very fast fronts: a coarser 1-2-5 step, at most 20 rows
        step = next(m * 10.0**e for e in range(1, 13) for m in (1, 2, 5) if mx / (m * 10.0**e) <= 20)
    return [round(k * step, 6) for k in range(1, max(int(mx // step), 1) + 1)]


def iso_table(groups, targets=None):
    fronts = {g: pareto_front(xs, ys) for g, (xs, ys) in groups.items()}
    if targets is None:
        targets = default_targets(fronts)
    return {"groups": list(groups),
            "rows": [{"interactivity": t, "values": {g: interpolate(fronts[g], t) for g in groups}}
                     for t in targets]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--iso")
    a = ap.parse_args()
    targets = [float(v) for v in a.iso.split(",")] if a.iso else None
    json.dump(iso_table(load_csv(a.csv), targets), sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
