import RiptideEngine
import RiptideTokenizer

/// The sampling fields shared by the OpenAI endpoints and SGLang's `sampling_params`; the
/// length limit (`max_tokens`, `max_completion_tokens`, `max_new_tokens`) and logprobs differ per
/// endpoint and are read there.
extension SamplingParams {
    static let maxChoices = 64
    static let maxStopStrings = 32
    static let maxTopLogprobs = 20

    mutating func read(_ f: JSONFields, vocabularySize: Int) throws {
        if let v = try f.number("temperature", in: 0...100) { temperature = Float(v) }
        if let v = try f.number("top_p", in: 0...1, expected: "a number in (0, 1]") {
            guard v > 0 else { throw f.fail("top_p", "a number in (0, 1]") }
            topP = Float(v)
        }
        // -1 and 0 both mean "off" (SGLang and vLLM accept either).
        if let v = try f.int("top_k", in: -1...Int.max, expected: "an integer ≥ -1 (-1 or 0: off)") { topK = max(0, v) }
        if let v = try f.number("min_p", in: 0...1) { minP = Float(v) }
        if let v = try f.number("frequency_penalty", in: -2...2) { frequencyPenalty = Float(v) }
        if let v = try f.number("presence_penalty", in: -2...2) { presencePenalty = Float(v) }
        if let v = try f.number("repetition_penalty", in: 0...10, expected: "a number in (0, 10]") {
            guard v > 0 else { throw f.fail("repetition_penalty", "a number in (0, 10]") }
            repetitionPenalty = Float(v)
        }
        if let bias = f["logit_bias"] {
            guard case .object(let members) = bias else { throw f.fail("logit_bias", "an object mapping token ids to numbers") }
            var map: [Int: Float] = [:]
            for m in members {
                guard let id = Int(m.key), id >= 0, id < vocabularySize else {
                    throw APIError.invalid(
                        "'\(f.name("logit_bias"))' has key '\(m.key)', which is not a token id in [0, \(vocabularySize))",
                        param: f.name("logit_bias"))
                }
                guard let v = JSONFields.double(m.value), v.isFinite, (-100...100).contains(v) else {
                    throw APIError.invalid(
                        "'\(f.name("logit_bias"))' values must be numbers in [-100, 100]", param: f.name("logit_bias"))
                }
                map[id] = Float(v)
            }
            logitBias = map
        }
        if let v = try f.int("seed") { seed = UInt64(bitPattern: Int64(v)) }
        if let list = try f.stringOrList("stop") {
            let strings = list.filter { !$0.isEmpty }
            guard strings.count <= Self.maxStopStrings else {
                throw f.fail("stop", "at most \(Self.maxStopStrings) strings")
            }
            stop = strings
        }
        if let ids = try f.intList("stop_token_ids", in: 0...(vocabularySize - 1)) { stopTokenIds = Set(ids) }
        if let v = try f.bool("ignore_eos") { ignoreEOS = v }
        if let v = try f.bool("skip_special_tokens") { skipSpecialTokens = v }
        if let v = try f.int("n", in: 1...Self.maxChoices) { n = v }
    }

    /// `forced_output` (tests only): token ids, or a text that is tokenized with special tokens
    /// matched (so a test can make the model "emit" `</think>`, DSML markup and EOS).
    mutating func readTestHooks(_ f: JSONFields, tokenizer: Tokenizer, enabled: Bool) throws {
        guard let value = f["forced_output"] else { return }
        guard enabled else {
            throw APIError.invalid(
                "'\(f.name("forced_output"))' is a test hook; start the server with --enable-test-hooks to use it",
                param: f.name("forced_output"))
        }
        switch value {
        case .string(let text): forcedOutput = tokenizer.encode(text)
        case .array:
            forcedOutput = try f.intList("forced_output", in: 0...(tokenizer.vocabularySize - 1))
        default:
            throw f.fail("forced_output", "a string or a list of token ids")
        }
    }
}
