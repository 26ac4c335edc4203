import Foundation
import Testing
@testable import RiptideBench

@Suite struct StatsTests {
    @Test func numpyConventions() {
        let s = Summary([4, 1, 3, 2])
        #expect(s.mean == 2.5)
        #expect(s.median == 2.5)
        #expect(abs(s.std - 1.118033988749895) < 1e-12)   // np.std, ddof = 0
        #expect(abs(s.p90 - 3.7) < 1e-12)                 // np.percentile linear
        #expect(abs(s.p99 - 3.97) < 1e-12)
        #expect(abs(s.p999 - 3.997) < 1e-12)
        #expect(Summary([]) == .zero)
    }
}

@Suite struct PromptGeneratorTests {
    @Test func lengthsIdsAndDeterminism() {
        let codec = WordStandInCodec(vocabularySize: 1000)
        let gen = PromptGenerator(inputLength: 100, outputLength: 50, rangeRatio: 0.8, seed: 0)
        let a = gen.make(count: 200, codec: codec)
        #expect(a == gen.make(count: 200, codec: codec))
        #expect(a.allSatisfy { (80...100).contains($0.promptLength) && (40...50).contains($0.outputLength) })
        #expect(Set(a.map(\.promptLength)).count > 10)     // really drawn, not constant
        #expect(a.allSatisfy { codec.encode($0.text).count == $0.promptLength })
        // Consecutive ids mod vocab from a per-request offset.
        for prompt in a.prefix(20) {
            let ids = codec.encode(prompt.text)
            for j in 1..<ids.count { #expect(ids[j] == (ids[j - 1] + 1) % 1000) }
        }
        #expect(Set(a.map { codec.encode($0.text)[0] }).count > 150)  // no shared prefix
        #expect(PromptGenerator.lengthRange(1024, ratio: 0.8) == 819...1024)
        #expect(PromptGenerator(inputLength: 10, outputLength: 10, seed: 1).make(count: 5, codec: codec) != a.prefix(5).map { $0 })
    }

    /// A codec whose text re-encodes longer than the ids (each id ≥ 500 becomes two tokens):
    /// the fit loop must truncate back toward the target.
    struct SplittingCodec: PromptCodec {
        let vocabularySize = 1000
        func decode(_ ids: [Int]) -> String { ids.map { $0 >= 500 ? "t\($0 - 500) t\($0 - 500)" : "t\($0)" }.joined(separator: " ") }
        func encode(_ text: String) -> [Int] { WordStandInCodec().encode(text) }
    }

    @Test func reencodeFitsTarget() {
        let prompts = PromptGenerator(inputLength: 64, outputLength: 8, rangeRatio: 1, seed: 0).make(count: 20, codec: SplittingCodec())
        #expect(prompts.allSatisfy { $0.promptLength == SplittingCodec().encode($0.text).count })
        #expect(prompts.allSatisfy { $0.promptLength == 64 })
    }
}

@Suite struct SSEDecoderTests {
    @Test func splitsEventsAcrossReads() {
        var d = SSEDecoder()
        let stream = "data: {\"choices\":[{\"text\":\"a\"}]}\n\ndata: {\"choices\":[{\"text\":\"\"}]}\r\n\r\n: comment\n"
            + "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n"
        var events: [StreamEvent] = []
        let bytes = Array(stream.utf8)
        for i in stride(from: 0, to: bytes.count, by: 7) { events += d.feed(bytes[i..<min(i + 7, bytes.count)]) }
        #expect(events == [.content(text: "a", usage: nil), .content(text: "", usage: nil),
                           .usage(.init(prompt_tokens: 3, completion_tokens: 2)), .done])
    }

    @Test func errorsAreReported() {
        var d = SSEDecoder()
        #expect(d.feed(Array("data: {\"error\":{\"message\":\"boom\"}}\n\n".utf8)) == [.error("boom")])
    }
}

@Suite struct StoreTests {
    @Test func appendReplaceAndImportAgg() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("riptide-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try ResultStore(path: dir.appendingPathComponent("h.sqlite").path)
        // An InferenceX agg row: hw/framework/precision config, latencies in seconds.
        let agg = """
        {"hw":"mi355x","conc":64,"image":"x","model":"dsv4","framework":"sglang","precision":"fp4",
         "spec_decoding":"none","disagg":false,"isl":8192,"osl":1024,"tp":8,"ep":1,"dp_attention":true,
         "tput_per_gpu":1234.5,"output_tput_per_gpu":120.0,"input_tput_per_gpu":1114.5,
         "median_tpot":0.025,"median_intvty":40.0,"p99.9_ttft":3.2}
        """
        let rows = try ReportInputs.jsonRows(Data(agg.utf8))
        #expect(rows.count == 1 && rows[0].hardware == "mi355x" && rows[0].conc == 64 && rows[0].isl == 8192)
        #expect(rows[0].hardwareKey == "mi355x_sglang" && rows[0].values["p99.9_ttft"] == 3.2)
        try store.append(rows)
        var changed = rows[0]
        changed.values["tput_per_gpu"] = 999
        try store.append([changed])                 // same key → replaced
        changed.conc = 128
        try store.append([changed])                 // new key → appended
        #expect(try store.count() == 2)
        let back = try store.allRows()
        #expect(back.map(\.tputPerGPU) == [999, 999])
        // Our own rows round-trip through JSON with InferenceX names.
        let data = try JSONEncoder().encode(back)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"tput_per_gpu\"") && text.contains("\"hw\"") && text.contains("\"conc\""))
        #expect(try ReportInputs.jsonRows(data) == back)
    }
}

@Suite struct PayloadTests {
    /// --extra-body adds fields (llama-server's cache_prompt) but cannot replace the protocol's own.
    @Test func extraBodyMergesWithoutOverriding() throws {
        let client = CompletionsClient(address: try ServerAddress(baseURL: "http://127.0.0.1:1"), model: "m",
                                       extraBody: Data(#"{"cache_prompt": false, "max_tokens": 5}"#.utf8))
        let data = try client.payload(for: BenchPrompt(text: "hi", promptLength: 1, outputLength: 7))
        let body = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(body["cache_prompt"] as? Bool == false)
        #expect(body["max_tokens"] as? Int == 7)
        #expect(body["ignore_eos"] as? Bool == true)
    }
}
