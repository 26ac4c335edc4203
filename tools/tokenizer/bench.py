#!/usr/bin/env python3
"""Tokenizer speed: Hugging Face `tokenizers` (single-threaded) vs `riptide bench-tokenizer`.

Builds ~1 MB of deterministic mixed text (English prose from Python's pydoc topics, Python stdlib
source code, multilingual subwords drawn from the vocabulary, chat markup with special tokens,
emoji, numbers, whitespace runs), then times both tokenizers encoding it and prints MB/s and the
Swift/HF ratio. MB = 10^6 bytes of UTF-8 input; figures are best of --repeat runs (caches warm).

Modes: default is one encode call on the whole text (HF: Tokenizer.encode(text));
--per-line encodes each line separately (HF: encode_batch(lines) with RAYON_NUM_THREADS=1, i.e.
one thread, no per-call Python overhead; riptide: one encode call per line).
"""
import argparse, os, random, re, subprocess, sys, time

os.environ["RAYON_NUM_THREADS"] = "1"          # must precede `import tokenizers`
os.environ["TOKENIZERS_PARALLELISM"] = "false"

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import make_parity_fixture as fx  # noqa: E402  (reuses its text pieces)


def build_text(tok, size, seed):
    rng = random.Random(seed)
    import pydoc_data.topics, inspect, argparse as ap_mod, json as json_mod, textwrap
    prose = [t for _, t in sorted(pydoc_data.topics.topics.items())]
    code = [open(m.__file__, encoding="utf-8").read() for m in (inspect, ap_mod, textwrap, json_mod.decoder)]
    vocab = sorted(tok.get_vocab(with_added_tokens=False).items(), key=lambda kv: kv[1])
    words = [tok.decode([i]) for _, i in vocab]
    foreign = [w for w in words if any(ord(c) > 0x2FF for c in w) and "\ufffd" not in w]
    parts, total = [], 0
    quotas = [("prose", 0.45), ("code", 0.25), ("foreign", 0.15), ("vocab", 0.08), ("mixed", 0.07)]
    for kind, share in quotas:
        budget, got = int(size * share), 0
        while got < budget:
            if kind == "prose":
                t = rng.choice(prose); a = rng.randrange(max(1, len(t) - 2000)); s = t[a:a + 2000]
            elif kind == "code":
                t = rng.choice(code); a = rng.randrange(max(1, len(t) - 3000)); s = t[a:a + 3000]
            elif kind == "foreign":  # sentences of multilingual subwords, with script samples
                s = "".join(rng.choice(foreign) for _ in range(rng.randint(5, 30)))
                s += rng.choice(["。", "，", "、", ". ", "! ", "？", "\n"]) + rng.choice(list(fx.SCRIPTS.values()))[:rng.randint(5, 60)]
            elif kind == "vocab":    # random real subwords, as in rare-word heavy text
                s = " ".join(rng.choice(words) for _ in range(rng.randint(5, 25))) + "\n"
            else:
                s = "".join(fx.piece(rng) for _ in range(rng.randint(2, 10)))
            s = s.replace("\ufffd", "")
            got += len(s.encode("utf-8")); parts.append((kind, s))
    rng.shuffle(parts)
    text = "\n".join(s for _, s in parts)
    return text


def time_hf(tok, text, per_line, repeat):
    lines = text.split("\n")
    lines = [l + "\n" for l in lines[:-1]] + [lines[-1]]
    times, ntok = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        if per_line:
            ntok = sum(len(e.ids) for e in tok.encode_batch(lines))
        else:
            ntok = len(tok.encode(text).ids)
        times.append(time.perf_counter() - t0)
    return times, ntok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokenizer", default=fx.DEFAULT_TOKENIZER)
    ap.add_argument("--riptide", default=os.path.join(ROOT, ".build/release/riptide"))
    ap.add_argument("--file", default="/tmp/riptide-tokenizer-bench.txt", help="where to write the text")
    ap.add_argument("--size", type=int, default=1_000_000, help="approximate text size in bytes")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--per-line", action="store_true")
    args = ap.parse_args()

    import tokenizers
    tok = tokenizers.Tokenizer.from_file(args.tokenizer)
    text = build_text(tok, args.size, args.seed)
    with open(args.file, "w", encoding="utf-8") as f:
        f.write(text)
    nbytes = len(text.encode("utf-8"))
    mode = "per line" if args.per_line else "one call"
    print(f"text: {args.file}, {nbytes} bytes, {text.count(chr(10)) + 1} lines; mode: {mode}; best of {args.repeat}")

    times, ntok = time_hf(tok, text, args.per_line, args.repeat)
    hf = nbytes / 1e6 / min(times)
    print(f"HF tokenizers {tokenizers.__version__} (1 thread): {ntok} tokens, first {nbytes / 1e6 / times[0]:.2f} MB/s, "
          f"best {hf:.2f} MB/s, {ntok / min(times) / 1e6:.2f} M tokens/s")

    cmd = [args.riptide, "bench-tokenizer", "--tokenizer", args.tokenizer, "--file", args.file, "--repeat", str(args.repeat)]
    if args.per_line:
        cmd.append("--per-line")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    best = re.search(r"best of \d+: [\d.]+ ms, ([\d.]+) MB/s, ([\d.]+) M tokens/s", out)
    first = re.search(r"first run: [\d.]+ ms, ([\d.]+) MB/s", out)
    stok = int(re.search(r"tokens: (\d+)", out).group(1))
    sw, sw_first = float(best.group(1)), float(first.group(1))
    print(f"riptide (Swift, 1 thread):        {stok} tokens, first {float(first.group(1)):.2f} MB/s, "
          f"best {sw:.2f} MB/s, {float(best.group(2)):.2f} M tokens/s")
    if stok != ntok:
        print(f"WARNING: token counts differ (HF {ntok}, riptide {stok})")
    hf_first = nbytes / 1e6 / times[0]
    print(f"ratio Swift/HF: {sw / hf:.2f}x best-vs-best, {sw_first / hf_first:.2f}x first-vs-first (cold caches)")


if __name__ == "__main__":
    main()
