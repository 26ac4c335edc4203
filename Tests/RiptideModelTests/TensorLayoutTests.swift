import Foundation
import Testing
import RiptideCheckpoint
@testable import RiptideModel

@Test func flashLayoutMatchesTheOfficialIndex() throws {
    let c = try ModelConfig(contentsOf: fixtureURL("flash-config"))
    let specs = c.expectedTensors
    #expect(Set(specs.map(\.name)).count == specs.count, "names are unique")
    let byName = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) })
    func check(_ name: String, _ dtype: DType, _ shape: [Int]) {
        #expect(byName[name]?.dtype == dtype, "\(name) dtype")
        #expect(byName[name]?.shape == shape, "\(name) shape")
    }
    // Shapes from the real Flash index (spec §7).
    check("embed.weight", .bf16, [129280, 4096])
    check("hc_head_fn", .f32, [4, 16384])
    check("layers.0.attn.wq_a.weight", .f8e4m3, [1024, 4096]); check("layers.0.attn.wq_a.scale", .f8e8m0, [8, 32])
    check("layers.0.attn.wq_b.weight", .f8e4m3, [32768, 1024]); check("layers.0.attn.wq_b.scale", .f8e8m0, [256, 8])
    check("layers.0.attn.wkv.scale", .f8e8m0, [4, 32])
    check("layers.0.attn.wo_a.weight", .f8e4m3, [8192, 4096]); check("layers.0.attn.wo_a.scale", .f8e8m0, [64, 32])
    check("layers.0.attn.wo_b.weight", .f8e4m3, [4096, 8192]); check("layers.0.attn.wo_b.scale", .f8e8m0, [32, 64])
    check("layers.0.hc_attn_fn", .f32, [24, 16384]); check("layers.0.hc_ffn_scale", .f32, [3])
    check("layers.0.ffn.gate.tid2eid", .i64, [129280, 6])
    check("layers.3.ffn.gate.bias", .f32, [256])
    check("layers.0.ffn.experts.255.w1.weight", .i8, [2048, 2048]); check("layers.0.ffn.experts.255.w1.scale", .f8e8m0, [2048, 128])
    check("layers.0.ffn.experts.0.w2.weight", .i8, [4096, 1024]); check("layers.0.ffn.experts.0.w2.scale", .f8e8m0, [4096, 64])
    check("layers.0.ffn.shared_experts.w1.weight", .f8e4m3, [2048, 4096]); check("layers.0.ffn.shared_experts.w1.scale", .f8e8m0, [16, 32])
    check("layers.0.ffn.shared_experts.w2.scale", .f8e8m0, [32, 16])
    check("layers.2.attn.compressor.ape", .f32, [4, 1024]); check("layers.3.attn.compressor.ape", .f32, [128, 512])
    check("layers.2.attn.compressor.wkv.weight", .bf16, [1024, 4096])
    check("layers.2.attn.indexer.wq_b.weight", .f8e4m3, [8192, 1024]); check("layers.2.attn.indexer.wq_b.scale", .f8e8m0, [64, 8])
    check("layers.2.attn.indexer.compressor.ape", .f32, [4, 256]); check("layers.2.attn.indexer.weights_proj.weight", .bf16, [64, 4096])
    check("mtp.0.e_proj.weight", .f8e4m3, [4096, 4096]); check("mtp.0.hc_head_base", .f32, [4])
    check("mtp.0.ffn.gate.bias", .f32, [256])
    #expect(byName["mtp.0.ffn.gate.tid2eid"] == nil && byName["mtp.0.attn.compressor.ape"] == nil)

    // Name families per layer, experts counted once (spec §7 notes: 35, 46, 39, 46).
    func families(_ layer: Int) -> Int {
        let prefix = "layers.\(layer)."
        return Set(specs.map(\.name).filter { $0.hasPrefix(prefix) }.map {
            $0.replacingOccurrences(of: #"experts\.\d+\."#, with: "experts.E.", options: .regularExpression)
        }).count
    }
    #expect(families(0) == 35 && families(1) == 35)
    #expect(families(2) == 46)
    #expect(families(3) == 39 && families(41) == 39)
    #expect(families(4) == 46 && families(42) == 46)
}
