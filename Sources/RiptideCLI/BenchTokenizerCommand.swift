import ArgumentParser
import Foundation
import RiptideTokenizer

/// `riptide bench-tokenizer`: encode throughput on a text file, single-threaded.
struct BenchTokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-tokenizer",
        abstract: "Measure tokenizer encode speed (MB/s, tokens/s) on a UTF-8 text file.",
        discussion: """
            The first run starts with an empty word cache; the reported figure is the best of \
            --repeat runs. MB = 10^6 bytes of UTF-8 input.
            """)

    @Option(help: "Path to a tokenizer.json (default: the bundled DeepSeek-V4 tokenizer).")
    var tokenizer: String?

    @Option(help: "UTF-8 text file to encode.")
    var file: String

    @Option(name: .customLong("repeat"), help: "Number of timed runs.")
    var repeatCount = 5

    @Flag(help: "Encode each line separately (one encode call per line) instead of the whole file in one call.")
    var perLine = false

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CLIError("cannot read file '\(file)'")
        }
        guard repeatCount >= 1 else { throw ValidationError("--repeat must be at least 1") }
        let text = String(decoding: data, as: UTF8.self)
        let lines = perLine ? splitLines(data) : [text]

        let loadStart = ContinuousClock.now
        let tok = try loadTokenizer(tokenizer)
        let loadTime = ContinuousClock.now - loadStart

        var tokenCount = 0
        var times: [Double] = []
        for _ in 0..<repeatCount {
            let start = ContinuousClock.now
            var n = 0
            for line in lines { n += tok.encode(line).count }
            times.append(seconds(ContinuousClock.now - start))
            tokenCount = n
        }
        let mb = Double(data.count) / 1e6
        let best = times.min()!
        print("file: \(file) (\(data.count) bytes, \(perLine ? "\(lines.count) calls (per line)" : "1 call") per run)")
        print("tokenizer load: \(fmt(seconds(loadTime) * 1000)) ms")
        print("tokens: \(tokenCount)")
        print("first run: \(fmt(times[0] * 1000)) ms, \(fmt(mb / times[0])) MB/s")
        print("best of \(repeatCount): \(fmt(best * 1000)) ms, \(fmt(mb / best)) MB/s, \(fmt(Double(tokenCount) / best / 1e6)) M tokens/s")
    }

    /// Lines split at LF bytes, each keeping its "\n" (a Swift `Character` split would treat
    /// "\r\n" as one character and never split there).
    private func splitLines(_ data: Data) -> [String] {
        var lines: [String] = []
        var start = data.startIndex
        for i in data.indices where data[i] == 0x0A {
            lines.append(String(decoding: data[start...i], as: UTF8.self))
            start = i + 1
        }
        lines.append(String(decoding: data[start...], as: UTF8.self))
        return lines
    }

    private func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    private func fmt(_ x: Double) -> String { String(format: "%.2f", x) }
}
