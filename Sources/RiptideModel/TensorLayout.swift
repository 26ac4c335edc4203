import RiptideCheckpoint

/// Every tensor an official DeepSeek-V4 checkpoint holds for a config, with dtype and shape (spec §7).
/// The loader checks checkpoints against it, `inspect` reports against it, and synthetic checkpoints
/// are written from it.
extension ModelConfig {
    public var expectedTensors: [TensorSpec] {
        var out: [TensorSpec] = [
            TensorSpec(name: "embed.weight", dtype: .bf16, shape: [vocabSize, dim]),
            TensorSpec(name: "head.weight", dtype: .bf16, shape: [vocabSize, dim]),
            TensorSpec(name: "norm.weight", dtype: .bf16, shape: [dim]),
        ]
        out += hcHeadTensors(prefix: "")
        for layer in 0..<nLayers { out += blockTensors(prefix: "layers.\(layer).", layer: layer) }
        for k in 0..<nMTPLayers {
            let p = "mtp.\(k)."
            out += blockTensors(prefix: p, layer: nLayers + k)
            out += fp8Linear(p + "e_proj", out: dim, in: dim) + fp8Linear(p + "h_proj", out: dim, in: dim)
            out += ["enorm", "hnorm", "norm"].map { TensorSpec(name: p + $0 + ".weight", dtype: .bf16, shape: [dim]) }
            out += hcHeadTensors(prefix: p)
        }
        return out
    }

    private func hcHeadTensors(prefix p: String) -> [TensorSpec] {
        [TensorSpec(name: p + "hc_head_fn", dtype: .f32, shape: [hcMult, hcMult * dim]),
         TensorSpec(name: p + "hc_head_base", dtype: .f32, shape: [hcMult]),
         TensorSpec(name: p + "hc_head_scale", dtype: .f32, shape: [1])]
    }

    /// An FP8 e4m3 weight with its E8M0 scale per 128×128 block.
    private func fp8Linear(_ name: String, out rows: Int, in cols: Int) -> [TensorSpec] {
        [TensorSpec(name: name + ".weight", dtype: .f8e4m3, shape: [rows, cols]),
         TensorSpec(name: name + ".scale", dtype: .f8e8m0, shape: [(rows + 127) / 128, (cols + 127) / 128])]
    }

    /// An FP4 e2m1 weight, two values per byte, with its E8M0 scale per 32 inputs.
    private func fp4Linear(_ name: String, out rows: Int, in cols: Int) -> [TensorSpec] {
        [TensorSpec(name: name + ".weight", dtype: .i8, shape: [rows, cols / 2]),
         TensorSpec(name: name + ".scale", dtype: .f8e8m0, shape: [rows, cols / 32])]
    }

    private func bf16(_ name: String, _ shape: [Int]) -> TensorSpec { TensorSpec(name: name, dtype: .bf16, shape: shape) }
    private func f32(_ name: String, _ shape: [Int]) -> TensorSpec { TensorSpec(name: name, dtype: .f32, shape: shape) }

    /// One transformer block: main layer `layer`, or an MTP block when `layer >= nLayers`.
    private func blockTensors(prefix p: String, layer: Int) -> [TensorSpec] {
        let a = p + "attn."
        let mix = (2 + hcMult) * hcMult  // pre (hc) + post (hc) + comb (hc×hc) mixing weights
        var out: [TensorSpec] = [
            f32(a + "attn_sink", [nHeads]),
            bf16(a + "q_norm.weight", [qLoraRank]),
            bf16(a + "kv_norm.weight", [headDim]),
            bf16(p + "attn_norm.weight", [dim]),
            bf16(p + "ffn_norm.weight", [dim]),
        ]
        out += fp8Linear(a + "wq_a", out: qLoraRank, in: dim)
        out += fp8Linear(a + "wq_b", out: nHeads * headDim, in: qLoraRank)
        out += fp8Linear(a + "wkv", out: headDim, in: dim)
        out += fp8Linear(a + "wo_a", out: oGroups * oLoraRank, in: nHeads * headDim / oGroups)
        out += fp8Linear(a + "wo_b", out: dim, in: oGroups * oLoraRank)
        for site in ["attn", "ffn"] {
            out += [f32(p + "hc_\(site)_fn", [mix, hcMult * dim]), f32(p + "hc_\(site)_base", [mix]), f32(p + "hc_\(site)_scale", [3])]
        }
        let ratio = compressRatios[layer]
        if ratio > 0 {
            let c = ratio == 4 ? 2 : 1  // ratio 4 compresses overlapping windows: two halves per entry
            out += [f32(a + "compressor.ape", [ratio, c * headDim]),
                    bf16(a + "compressor.wkv.weight", [c * headDim, dim]),
                    bf16(a + "compressor.wgate.weight", [c * headDim, dim]),
                    bf16(a + "compressor.norm.weight", [headDim])]
        }
        if ratio == 4 {
            let ix = a + "indexer."
            out += fp8Linear(ix + "wq_b", out: indexNHeads * indexHeadDim, in: qLoraRank)
            out += [bf16(ix + "weights_proj.weight", [indexNHeads, dim]),
                    f32(ix + "compressor.ape", [4, 2 * indexHeadDim]),
                    bf16(ix + "compressor.wkv.weight", [2 * indexHeadDim, dim]),
                    bf16(ix + "compressor.wgate.weight", [2 * indexHeadDim, dim]),
                    bf16(ix + "compressor.norm.weight", [indexHeadDim])]
        }
        let f = p + "ffn."
        out.append(bf16(f + "gate.weight", [nRoutedExperts, dim]))
        if layer < nLayers && isHashRouted(layer) {
            out.append(TensorSpec(name: f + "gate.tid2eid", dtype: .i64, shape: [vocabSize, nActivatedExperts]))
        } else {
            out.append(f32(f + "gate.bias", [nRoutedExperts]))
        }
        for e in 0..<nRoutedExperts {
            let ex = f + "experts.\(e)."
            if expertDType == .fp4 {
                out += fp4Linear(ex + "w1", out: moeInterDim, in: dim) + fp4Linear(ex + "w3", out: moeInterDim, in: dim)
                out += fp4Linear(ex + "w2", out: dim, in: moeInterDim)
            } else {
                out += fp8Linear(ex + "w1", out: moeInterDim, in: dim) + fp8Linear(ex + "w3", out: moeInterDim, in: dim)
                out += fp8Linear(ex + "w2", out: dim, in: moeInterDim)
            }
        }
        if nSharedExperts > 0 {
            let inter = moeInterDim * nSharedExperts
            out += fp8Linear(f + "shared_experts.w1", out: inter, in: dim) + fp8Linear(f + "shared_experts.w3", out: inter, in: dim)
            out += fp8Linear(f + "shared_experts.w2", out: dim, in: inter)
        }
        return out
    }
}
