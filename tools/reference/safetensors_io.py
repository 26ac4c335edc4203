"""Minimal safetensors reader/writer (no torch, no `safetensors` package).

File layout: u64 little-endian header length N, N bytes of JSON header
``{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}``,
then the raw little-endian tensor bytes (offsets relative to the end of the header).
Sharded checkpoints add ``model.safetensors.index.json`` = {"metadata": {...}, "weight_map": {name: file}}.
"""
from __future__ import annotations

import json
import os
import struct
from typing import Dict, Iterable, Tuple

import numpy as np
import ml_dtypes

DTYPES = {
    "F32": np.dtype(np.float32),
    "F64": np.dtype(np.float64),
    "BF16": np.dtype(ml_dtypes.bfloat16),
    "F16": np.dtype(np.float16),
    "F8_E4M3": np.dtype(ml_dtypes.float8_e4m3fn),
    "F8_E8M0": np.dtype(ml_dtypes.float8_e8m0fnu),
    "I8": np.dtype(np.int8),
    "U8": np.dtype(np.uint8),
    "I32": np.dtype(np.int32),
    "I64": np.dtype(np.int64),
}
_NAMES = {v: k for k, v in DTYPES.items()}


def dtype_name(dt) -> str:
    return _NAMES[np.dtype(dt)]


def read_header(path: str) -> Tuple[dict, int]:
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n).decode("utf-8"))
    return header, 8 + n


def load_file(path: str, names: Iterable[str] | None = None) -> Dict[str, np.ndarray]:
    """Load tensors (memory-mapped, read-only) from one .safetensors file."""
    header, base = read_header(path)
    mm = np.memmap(path, dtype=np.uint8, mode="r")
    out = {}
    for name, info in header.items():
        if name == "__metadata__" or (names is not None and name not in names):
            continue
        b, e = info["data_offsets"]
        dt = DTYPES[info["dtype"]]
        shape = tuple(info["shape"])
        raw = mm[base + b: base + e]
        assert raw.size == int(np.prod(shape, dtype=np.int64)) * dt.itemsize, name
        out[name] = raw.view(dt).reshape(shape)
    return out


def save_file(tensors: Dict[str, np.ndarray], path: str, metadata: dict | None = None) -> None:
    header = {}
    offset = 0
    order = sorted(tensors)
    for name in order:
        t = np.ascontiguousarray(tensors[name])
        header[name] = {"dtype": dtype_name(t.dtype), "shape": list(t.shape),
                        "data_offsets": [offset, offset + t.nbytes]}
        offset += t.nbytes
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)  # pad the header to 8-byte alignment
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for name in order:
            f.write(np.ascontiguousarray(tensors[name]).tobytes())


def save_sharded(tensors: Dict[str, np.ndarray], directory: str, max_shard_bytes: int = 256 << 20,
                 prefix: str = "model") -> None:
    """Write tensors into model-0000k-of-0000n.safetensors shards plus the index json."""
    os.makedirs(directory, exist_ok=True)
    shards, cur, cur_bytes = [], {}, 0
    for name in tensors:  # insertion order
        nb = tensors[name].nbytes
        if cur and cur_bytes + nb > max_shard_bytes:
            shards.append(cur)
            cur, cur_bytes = {}, 0
        cur[name] = tensors[name]
        cur_bytes += nb
    if cur:
        shards.append(cur)
    n = len(shards)
    weight_map, total = {}, 0
    for k, shard in enumerate(shards):
        fname = f"{prefix}-{k + 1:05d}-of-{n:05d}.safetensors"
        save_file(shard, os.path.join(directory, fname), {"format": "pt"})
        for name, t in shard.items():
            weight_map[name] = fname
            total += t.nbytes
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    with open(os.path.join(directory, f"{prefix}.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=2)


def load_checkpoint(directory: str) -> Dict[str, np.ndarray]:
    """Load every tensor of a (possibly sharded) checkpoint directory, memory-mapped."""
    index_path = os.path.join(directory, "model.safetensors.index.json")
    if os.path.exists(index_path):
        with open(index_path) as f:
            weight_map = json.load(f)["weight_map"]
        files = sorted(set(weight_map.values()))
    else:
        files = sorted(p for p in os.listdir(directory) if p.endswith(".safetensors"))
        weight_map = None
    out = {}
    for fname in files:
        part = load_file(os.path.join(directory, fname))
        if weight_map is not None:
            for name in part:
                assert weight_map.get(name) == fname, f"{name} not mapped to {fname} in the index"
        out.update(part)
    if weight_map is not None:
        missing = set(weight_map) - set(out)
        assert not missing, f"index names tensors not found in shards: {sorted(missing)[:5]}"
    return out
