#!/usr/bin/env python3
"""Render a `riptide report --format html` page in headless Chromium and check it.

  render_check.py REPORT.html SCREENSHOT.png [--groups N]

Checks (exit 1 on failure):
  * the DOM Chromium built has one <path class="frontier"> per series group and no stray paths,
    an x axis and a y axis with their labels, and a legend with one item per group;
  * the screenshot exists and every group's palette colour is actually painted (PNG decoded with
    the standard library only), so the curves rendered, not just parsed.
Needs Debian's `chromium` (apt-get install -y chromium).
"""
import argparse
import os
import shutil
import struct
import subprocess
import sys
import zlib
from html.parser import HTMLParser

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
           "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    sys.exit("chromium not found: apt-get update && apt-get install -y chromium")


def run_chromium(args):
    base = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--hide-scrollbars", "--force-device-scale-factor=1"]
    return subprocess.run(base + args, check=True, capture_output=True, text=True, timeout=120)


class Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.paths, self.frontier_paths, self.series, self.legend_items = 0, 0, [], 0
        self.classes, self.axis_labels, self._in_label = set(), [], False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = set((a.get("class") or "").split())
        self.classes |= cls
        if tag == "path":
            self.paths += 1
            self.frontier_paths += "frontier" in cls
        if tag == "g" and "series" in cls:
            self.series.append(a.get("data-group"))
        if tag == "g" and "legend-item" in cls:
            self.legend_items += 1
        self._in_label = tag == "text" and "axis-label" in cls

    def handle_data(self, data):
        if self._in_label and data.strip():
            self.axis_labels.append(data.strip())
            self._in_label = False


def png_pixels(path):
    """Minimal PNG decoder (8-bit RGB/RGBA, non-interlaced) → (width, height, rows of bytes, bpp)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), f"unsupported PNG type {depth}/{ctype}"
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows, bpp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("html")
    ap.add_argument("png")
    ap.add_argument("--groups", type=int)
    a = ap.parse_args()
    url = "file://" + os.path.abspath(a.html)
    dom = Dom()
    dom.feed(run_chromium(["--dump-dom", url]).stdout)
    run_chromium([f"--screenshot={os.path.abspath(a.png)}", "--window-size=1100,900", url])

    errors = []
    n = len(dom.series)
    if a.groups is not None and n != a.groups:
        errors.append(f"{n} series, expected {a.groups}")
    if n == 0:
        errors.append("no series in the chart")
    if dom.frontier_paths != n or dom.paths != n:
        errors.append(f"{dom.frontier_paths} frontier paths / {dom.paths} paths for {n} groups")
    for c in ("x-axis", "y-axis", "legend"):
        if c not in dom.classes:
            errors.append(f"missing .{c}")
    if dom.legend_items != n:
        errors.append(f"{dom.legend_items} legend items for {n} groups")
    if not any("Interactivity" in t for t in dom.axis_labels) or not any("Throughput" in t for t in dom.axis_labels):
        errors.append(f"axis labels missing: {dom.axis_labels}")

    w, h, rows, bpp = png_pixels(a.png)
    painted = {}
    for colour in PALETTE[:n]:
        r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
        count = 0
        for row in rows:
            for x in range(0, w * bpp, bpp):
                if abs(row[x] - r) < 24 and abs(row[x + 1] - g) < 24 and abs(row[x + 2] - b) < 24:
                    count += 1
        painted[colour] = count
        if count < 50:
            errors.append(f"colour {colour} barely painted ({count} px)")
    print(f"render_check: {n} groups {dom.series}, {dom.paths} paths, legend items {dom.legend_items}, "
          f"axis labels {dom.axis_labels}, screenshot {w}x{h}, painted px per group {list(painted.values())}")
    if errors:
        print("FAILED:\n  " + "\n  ".join(errors))
        sys.exit(1)
    print("render_check: OK")


if __name__ == "__main__":
    main()
