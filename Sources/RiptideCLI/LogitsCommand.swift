import ArgumentParser
import Foundation
import RiptideKernels
import RiptideModel

struct LogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits",
        abstract: "Print the fp32 logits of the last position after prefill and after each decode step.",
        discussion: """
            Ids in, logits out: no tokenizer. Decode steps feed greedy ids (--decode N) or the given \
            teacher ids (--teacher). With --extend-chunk K the teacher ids go in chunks of K through \
            the extend path. Each step also runs the MTP block (its input pairs the final streams of \
            position t with token t+1). --json writes the full vectors in the reference's format.
            """)

    @Option(help: "Model directory (config.json + safetensors).")
    var model: String

    @Option(help: "Prompt token ids, comma separated.")
    var ids: String

    @Option(help: "Greedy decode steps after the prompt.")
    var decode: Int = 0

    @Option(help: "Teacher-forced continuation ids, comma separated.")
    var teacher: String?

    @Option(help: "Feed the teacher ids in chunks of this many tokens (extend path).")
    var extendChunk: Int = 0

    @Option(help: "Write the full result as JSON to this file ('-' for stdout).")
    var json: String?

    @Option(help: "How many top logits to print per step.")
    var top: Int = 5

    @Option(help: "Linear kernels: fast (packed, all threads) or reference (bit-exact with tools/reference).")
    var kernels: KernelChoice = .fast

    func run() throws {
        let prompt = try parseIds(ids, "--ids")
        let teacherIds = try teacher.map { try parseIds($0, "--teacher") }
        if teacherIds != nil && decode > 0 { throw CLIError("give either --decode or --teacher, not both") }
        if extendChunk > 0 && teacherIds == nil { throw CLIError("--extend-chunk needs --teacher") }
        guard !prompt.isEmpty else { throw CLIError("--ids is empty") }
        let transformer = try loadModel(model, kernels: kernels)
        let result = try LogitsRun(transformer: transformer).run(prompt: prompt, teacher: teacherIds, decode: decode, extendChunk: extendChunk)
        for step in result.steps {
            let top = topK(step.logits, top).map { "\($0.id):\(String(format: "%.4f", $0.value))" }.joined(separator: " ")
            let mtp = step.mtp.map { " mtp→\(argmax($0.logits))" } ?? ""
            print("pos \(step.position): greedy \(argmax(step.logits))  top \(top)\(mtp)")
        }
        if let json {
            let data = try JSONSerialization.data(withJSONObject: result.jsonObject(model: model))
            if json == "-" { FileHandle.standardOutput.write(data) } else { try data.write(to: URL(fileURLWithPath: json)) }
        }
    }
}

/// The prefill / decode / MTP loop behind `riptide logits`, in the same shape as the reference's
/// `tools/reference/run.py`, so the two outputs compare step by step.
struct LogitsRun {
    let transformer: Transformer

    struct Step {
        let position: Int
        let input: [Int]
        let logits: [Float]
        let mtp: (nextId: Int, logits: [Float])?
    }

    struct Result {
        let prompt: [Int], teacher: [Int]?, steps: [Step], generated: [Int]

        func jsonObject(model: String) -> [String: Any] {
            func entry(_ logits: [Float]) -> [String: Any] {
                ["greedy": argmax(logits), "max": Double(logits.max() ?? 0), "logits": logits.map(Double.init)]
            }
            let steps: [[String: Any]] = self.steps.map { s in
                var e: [String: Any] = ["pos": s.position, "input": s.input]
                e.merge(entry(s.logits)) { a, _ in a }
                if let m = s.mtp { e["mtp"] = ["next_id": m.nextId].merging(entry(m.logits)) { a, _ in a } }
                return e
            }
            var out: [String: Any] = ["ids": prompt, "steps": steps, "generated": generated, "model": model]
            if let teacher { out["teacher"] = teacher }
            return out
        }
    }

    func run(prompt: [Int], teacher: [Int]?, decode: Int, extendChunk: Int) throws -> Result {
        let state = transformer.newSequence()
        var out = try transformer.forward([.init(tokens: prompt, state: state, wantsStreams: true)])[0]
        var fed = prompt, steps: [Step] = []
        func next(_ i: Int, _ logits: [Float]) -> Int? {
            if let teacher { return i < teacher.count ? teacher[i] : nil }
            return i < decode ? argmax(logits) : nil
        }
        if extendChunk > 0, let teacher {
            steps.append(Step(position: prompt.count - 1, input: prompt, logits: out.logits, mtp: nil))
            for start in stride(from: 0, to: teacher.count, by: extendChunk) {
                let chunk = Array(teacher[start..<min(start + extendChunk, teacher.count)])
                out = try transformer.forward([.init(tokens: chunk, state: state, wantsStreams: true)])[0]
                fed += chunk
                steps.append(Step(position: fed.count - 1, input: chunk, logits: out.logits, mtp: nil))
            }
            return Result(prompt: prompt, teacher: teacher, steps: steps, generated: [])
        }
        let hasMTP = transformer.config.nMTPLayers > 0
        var i = 0
        var token = next(0, out.logits)
        func record(_ input: [Int], first: Bool) throws {
            var mtp: (Int, [Float])?
            if hasMTP {
                let pairedId = token ?? argmax(out.logits)
                let nextIds = first ? Array(fed.dropFirst()) + [pairedId] : [pairedId]
                mtp = (pairedId, try transformer.draftLogits(state: state, streams: out.finalStreams, nextTokens: nextIds))
            }
            steps.append(Step(position: fed.count - 1, input: input, logits: out.logits, mtp: mtp))
        }
        try record(prompt, first: true)
        while let t = token {
            out = try transformer.forward([.init(tokens: [t], state: state, wantsStreams: true)])[0]
            fed.append(t)
            i += 1
            token = next(i, out.logits)
            try record([t], first: false)
        }
        return Result(prompt: prompt, teacher: teacher, steps: steps, generated: Array(fed[prompt.count...]))
    }
}

func argmax(_ v: [Float]) -> Int { v.indices.max { v[$0] < v[$1] || (v[$0] == v[$1] && $0 > $1) } ?? 0 }

func topK(_ v: [Float], _ k: Int) -> [(id: Int, value: Float)] {
    v.indices.sorted { v[$0] != v[$1] ? v[$0] > v[$1] : $0 < $1 }.prefix(k).map { ($0, v[$0]) }
}

func parseIds(_ text: String, _ flag: String) throws -> [Int] {
    try text.split(separator: ",").map { part in
        guard let id = Int(part.trimmingCharacters(in: .whitespaces)), id >= 0 else {
            throw CLIError("\(flag): '\(part)' is not a token id")
        }
        return id
    }
}

/// Loads a model directory; errors name the directory or the file at fault.
func loadModel(_ path: String, kernels: KernelChoice = .fast) throws -> Transformer {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw CLIError("\(path): no such model directory")
    }
    do {
        return try Transformer(directory: URL(fileURLWithPath: path), kernels: kernels)
    } catch let error as RiptideModelError {
        throw CLIError("\(path): \(error)")
    } catch {
        throw CLIError("\(error)")  // config and checkpoint errors already name their file
    }
}

extension KernelChoice: ExpressibleByArgument {}
