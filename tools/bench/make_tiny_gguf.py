#!/usr/bin/env python3
"""Write a tiny random-weight LLaMA-architecture GGUF (SentencePiece byte-fallback vocab) so that
llama-server can be benchmarked before `riptide init-model` exists. The outputs are gibberish; the
point is the serving path (prefill, decode, streaming), which is real llama.cpp work.

  make_tiny_gguf.py OUT.gguf [--layers 2] [--embd 256] [--ff 512] [--heads 4] [--ctx 4096]
Needs the `gguf` package (pip install gguf, or llama.cpp's vendored gguf-py on PYTHONPATH) and numpy.
"""
import argparse

import numpy as np
import gguf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--embd", type=int, default=256)
    ap.add_argument("--ff", type=int, default=512)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ctx", type=int, default=4096)
    a = ap.parse_args()

    # SPM vocab: specials, 256 byte tokens, then a few pieces so "t123"-style prompts don't all
    # fall back to bytes.
    tokens, scores, types = ["<unk>", "<s>", "</s>"], [0.0, 0.0, 0.0], [2, 3, 3]
    for b in range(256):
        tokens.append(f"<0x{b:02X}>"); scores.append(0.0); types.append(6)
    pieces = ["▁", "▁t", "t"] + [str(d) for d in range(10)] + [f"▁t{d}" for d in range(10)] + \
             [f"{d}{e}" for d in range(10) for e in range(10)]
    for i, p in enumerate(pieces):
        tokens.append(p); scores.append(-float(i)); types.append(1)
    n_vocab, n_embd, n_ff, n_head = len(tokens), a.embd, a.ff, a.heads

    w = gguf.GGUFWriter(a.out, "llama")
    w.add_name("riptide-tiny-random")
    w.add_context_length(a.ctx)
    w.add_embedding_length(n_embd)
    w.add_block_count(a.layers)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head)
    w.add_rope_dimension_count(n_embd // n_head)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(0)  # all F32
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(True)

    rng = np.random.default_rng(0)
    def t(*shape, scale=0.02):
        return (rng.standard_normal(shape) * scale).astype(np.float32)
    # numpy shapes are (rows, cols) = ggml ne reversed.
    w.add_tensor("token_embd.weight", t(n_vocab, n_embd))
    w.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))
    w.add_tensor("output.weight", t(n_vocab, n_embd))
    for i in range(a.layers):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", np.ones(n_embd, dtype=np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            w.add_tensor(p + name + ".weight", t(n_embd, n_embd))
        w.add_tensor(p + "ffn_norm.weight", np.ones(n_embd, dtype=np.float32))
        w.add_tensor(p + "ffn_gate.weight", t(n_ff, n_embd))
        w.add_tensor(p + "ffn_up.weight", t(n_ff, n_embd))
        w.add_tensor(p + "ffn_down.weight", t(n_embd, n_ff))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"wrote {a.out}: {a.layers} layers, d={n_embd}, ff={n_ff}, vocab={n_vocab}")


if __name__ == "__main__":
    main()
