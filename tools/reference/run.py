"""CLI of the DeepSeek-V4 reference forward.

    python -m tools.reference.run --model DIR --ids 1,2,3 [--teacher 4,5,6 | --decode N]
                                  [--extend-chunk K] [--no-mtp] [--trace] --out FILE.json

Prefills the prompt (`--ids`), then either teacher-forces the given tokens one decode step at a
time or greedily decodes N tokens.  For every step (step 0 = after prefill) the output holds the
fp32 logits of the last position, their argmax ("greedy"), and the MTP draft logits.

MTP pairing (DeepSeek-V3 convention, spec §8): the MTP block sees the main model's final
4-stream state h_t together with the embedding of token t+1 (the prompt's next token, then the
teacher token or the greedy token of that step) and predicts token t+2.  After prefill it runs over
all prompt positions (h_0..h_{L-1} with ids_1..ids_{L-1}, next), then one position per step.

With --extend-chunk K the teacher tokens are fed in chunks of K (extend path, start_pos > 0, S = K)
instead of one by one; only the logits after each chunk are reported.

--trace adds, per step, the indexer top-k selections and the routed experts of every layer.
--dump FILE.npz writes op-level tensors of every step for layer-by-layer tests:
  step{k}.layer{i}.{attn_in, attn_out, ffn_in, ffn_out, h_out}  (bf16 values as float32;
  attn_in/ffn_in are the normed sub-block inputs, h_out the 4-stream block output [S, 4, D]),
  step{k}.logits, step{k}.ids, and step{k}.mtp_logits.
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from .model import Model


def _ids(s: str):
    return [int(v) for v in s.split(",") if v.strip()] if s else []


def _logits_entry(logits, with_logits=True):
    e = {"greedy": int(np.argmax(logits)), "max": float(np.max(logits)),
         "std": float(np.std(logits.astype(np.float64)))}
    if with_logits:
        e["logits"] = [float(v) for v in logits]
    return e


def _split_trace(tr):
    """(json part: selections/experts, array part: tensors) of one forward's trace."""
    js, arrays = {}, {}
    for layer, d in tr.items():
        for k, v in d.items():
            if isinstance(v, np.ndarray):
                arrays[f"{layer}.{k}"] = v
            else:
                js.setdefault(layer, {})[k] = v
    return js, arrays


def run(model: Model, ids, teacher=None, decode=0, extend_chunk=0, mtp=True, trace=False,
        with_logits=True, dump=None):
    st = model.new_state()
    steps = []
    tr = {} if (trace or dump is not None) else None
    logits, h = model.forward(st, ids, trace=tr)
    fed = list(ids)

    def next_token(i, logits):
        if teacher:
            return teacher[i] if i < len(teacher) else None
        return int(np.argmax(logits)) if i < decode else None

    def record(pos, inp, logits, h, nxt, mtp_first=False):
        e = {"pos": pos, "input": inp}
        e.update(_logits_entry(logits, with_logits))
        if mtp and model.mtp:
            if nxt is None:  # no known continuation: pair with this step's greedy token
                nxt = int(np.argmax(logits))
            if mtp_first:
                nid = list(fed[1:]) + [nxt]
                ml = model.mtp_forward(st, h, nid)
            else:
                ml = model.mtp_forward(st, h, [nxt])
            m = _logits_entry(ml, with_logits)
            e["mtp"] = {"next_id": nxt, **m}
        if tr is not None:
            js, arrays = _split_trace(tr)
            if trace:
                e["trace"] = js
            if dump is not None:
                k = len(steps)
                for name, a in arrays.items():
                    dump[f"step{k}.{name}"] = a
                dump[f"step{k}.logits"] = logits
                dump[f"step{k}.ids"] = np.asarray(inp, np.int64)
                if "mtp" in e:
                    dump[f"step{k}.mtp_logits"] = ml
            tr.clear()
        steps.append(e)

    i = 0
    nxt = next_token(0, logits)
    if extend_chunk and teacher:
        e = {"pos": len(ids) - 1, "input": list(ids)}
        e.update(_logits_entry(logits, with_logits))
        steps.append(e)
        while i < len(teacher):
            chunk = teacher[i:i + extend_chunk]
            logits, h = model.forward(st, chunk)
            fed += chunk
            i += len(chunk)
            e = {"pos": len(fed) - 1, "input": chunk}
            e.update(_logits_entry(logits, with_logits))
            steps.append(e)
        return {"ids": list(ids), "teacher": teacher, "steps": steps}
    record(len(ids) - 1, list(ids), logits, h, nxt, mtp_first=True)
    while nxt is not None:
        logits, h = model.forward(st, [nxt], trace=tr)
        fed.append(nxt)
        i += 1
        tok = nxt
        nxt = next_token(i, logits)
        record(len(fed) - 1, [tok], logits, h, nxt)
    out = {"ids": list(ids), "steps": steps, "generated": fed[len(ids):]}
    if teacher:
        out["teacher"] = teacher
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description="DeepSeek-V4 numpy reference forward")
    ap.add_argument("--model", required=True, help="checkpoint directory (config.json + safetensors)")
    ap.add_argument("--ids", required=True, help="prompt token ids, comma separated")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--teacher", default="", help="teacher-forced continuation ids")
    g.add_argument("--decode", type=int, default=0, help="greedy decode steps")
    ap.add_argument("--extend-chunk", type=int, default=0, help="feed --teacher in chunks of K")
    ap.add_argument("--no-mtp", action="store_true")
    ap.add_argument("--no-logits", action="store_true", help="omit the full logit vectors")
    ap.add_argument("--trace", action="store_true")
    ap.add_argument("--dump", default="", help="write op-level tensors of every step to this .npz")
    ap.add_argument("--max-seq-len", type=int, default=4096)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    model = Model(a.model, max_seq_len=a.max_seq_len)
    dump = {} if a.dump else None
    res = run(model, _ids(a.ids), _ids(a.teacher) or None, a.decode, a.extend_chunk,
              not a.no_mtp, a.trace, not a.no_logits, dump)
    if dump is not None:
        np.savez(a.dump, **dump)
    res["model"] = a.model
    with open(a.out, "w") as f:
        json.dump(res, f)
    for s in res["steps"]:
        extra = f" mtp->{s['mtp']['greedy']}" if "mtp" in s else ""
        print(f"pos {s['pos']}: greedy {s['greedy']} max {s['max']:.4f}{extra}")


if __name__ == "__main__":
    main()
