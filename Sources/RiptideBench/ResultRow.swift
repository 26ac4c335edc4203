import Foundation

/// One saved benchmark point, in InferenceX `agg_*.json` vocabulary (latencies in seconds,
/// `*_intvty` = 1000 / `*_tpot_ms`, `tput_per_gpu` = total tok/s ÷ devices) plus our identity
/// fields. Numeric fields live in one dictionary so InferenceX rows with extra or missing keys
/// decode losslessly and re-encode with their own names.
public struct ResultRow: Codable, Sendable, Equatable {
    public var label: String
    public var date: String
    public var hardware: String
    public var framework: String
    public var model: String
    public var precision: String
    public var specDecoding: String
    public var isl: Int
    public var osl: Int
    public var conc: Int
    /// Explicit group key (CSV input), overriding --group-by.
    public var group: String?
    public var values: [String: Double]

    public var tputPerGPU: Double? { values["tput_per_gpu"] }
    public var medianInteractivity: Double? { values["median_intvty"] }

    public init(label: String, date: String, hardware: String, framework: String, model: String = "",
                precision: String = "", specDecoding: String = "none", isl: Int, osl: Int, conc: Int,
                group: String? = nil, values: [String: Double]) {
        self.label = label; self.date = date; self.hardware = hardware; self.framework = framework
        self.model = model; self.precision = precision; self.specDecoding = specDecoding
        self.isl = isl; self.osl = osl; self.conc = conc; self.group = group; self.values = values
    }

    /// The hwKey the dashboard groups by: GPU + framework (+ spec-decode suffix).
    public var hardwareKey: String {
        var key = framework.isEmpty ? hardware : "\(hardware)_\(framework)"
        if !specDecoding.isEmpty, specDecoding != "none" { key += "_\(specDecoding)" }
        return key
    }

    public static func today() -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd"
        return f.string(from: Date())
    }

    // MARK: Coding

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
    private static let stringKeys = ["label", "date", "hw", "hardware", "framework", "model", "precision",
                                     "spec_decoding", "group"]

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        func str(_ k: String) -> String? { try? c.decode(String.self, forKey: Key(k)) }
        func int(_ k: String) -> Int? {
            if let i = try? c.decode(Int.self, forKey: Key(k)) { return i }
            if let d = try? c.decode(Double.self, forKey: Key(k)) { return Int(d) }
            if let s = str(k) { return Int(s) }
            return nil
        }
        hardware = str("hw") ?? str("hardware") ?? "unknown"
        framework = str("framework") ?? ""
        model = str("model") ?? ""
        precision = str("precision") ?? ""
        specDecoding = str("spec_decoding") ?? "none"
        date = str("date") ?? "unknown"
        group = str("group")
        isl = int("isl") ?? 0
        osl = int("osl") ?? 0
        guard let conc = int("conc") ?? int("max_concurrency") else {
            throw BenchError.input("row without conc")
        }
        self.conc = conc
        var values: [String: Double] = [:]
        for key in c.allKeys where !Self.stringKeys.contains(key.stringValue) {
            if let d = try? c.decode(Double.self, forKey: key) { values[key.stringValue] = d }
        }
        ["isl", "osl", "conc"].forEach { values[$0] = nil }
        self.values = values
        label = str("label") ?? (framework.isEmpty ? hardware : "\(hardware)_\(framework)")
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(label, forKey: Key("label"))
        try c.encode(date, forKey: Key("date"))
        try c.encode(hardware, forKey: Key("hw"))
        try c.encode(hardware, forKey: Key("hardware"))
        try c.encode(framework, forKey: Key("framework"))
        try c.encode(model, forKey: Key("model"))
        try c.encode(precision, forKey: Key("precision"))
        try c.encode(specDecoding, forKey: Key("spec_decoding"))
        try c.encode(isl, forKey: Key("isl"))
        try c.encode(osl, forKey: Key("osl"))
        try c.encode(conc, forKey: Key("conc"))
        if let group { try c.encode(group, forKey: Key("group")) }
        // JSON has no NaN/inf: drop non-finite values rather than fail the whole file.
        for (k, v) in values where v.isFinite { try c.encode(v, forKey: Key(k)) }
    }
}

extension ResultRow {
    /// Build the saved row of a finished point.
    public init(config: BenchConfig, conc: Int, date: String, model: String,
                metrics m: PointMetrics, overhead: ClientOverhead) {
        let devices = Double(max(config.devices, 1))
        var v: [String: Double] = [
            "tp": devices,
            "tput_per_gpu": m.totalTokenThroughput / devices,
            "output_tput_per_gpu": m.outputThroughput / devices,
            "input_tput_per_gpu": m.inputThroughput / devices,
            "request_throughput": m.requestThroughput,
            "output_throughput": m.outputThroughput,
            "input_throughput": m.inputThroughput,
            "total_token_throughput": m.totalTokenThroughput,
            "duration": m.duration,
            "num_prompts": Double(m.numPrompts),
            "completed": Double(m.completed),
            "failed": Double(m.failed),
            "point_failed": m.pointFailed ? 1 : 0,
            "total_input_tokens": Double(m.totalInputTokens),
            "total_output_tokens": Double(m.totalOutputTokens),
            "range_ratio": config.rangeRatio,
            "client_cpu_s": overhead.cpuSeconds,
            "client_cpu_util": overhead.cpuUtilization,
            "client_sustainable_req_rate": overhead.sustainableRequestRate,
            "client_cpu_us_per_chunk": overhead.cpuMicrosPerChunk,
        ]
        let stats: [(String, Summary)] = [("ttft", m.ttftMs), ("tpot", m.tpotMs), ("itl", m.itlMs), ("e2el", m.e2elMs)]
        for (name, s) in stats {
            let sec = s.scaled(by: 1e-3)
            v["mean_\(name)"] = sec.mean; v["median_\(name)"] = sec.median; v["std_\(name)"] = sec.std
            v["p90_\(name)"] = sec.p90; v["p99_\(name)"] = sec.p99; v["p99.9_\(name)"] = sec.p999
        }
        // process_result.py: *_intvty = 1000 / *_tpot_ms, std included (meaningless but expected).
        let t = m.tpotMs
        for (k, ms) in [("mean", t.mean), ("median", t.median), ("std", t.std),
                        ("p90", t.p90), ("p99", t.p99), ("p99.9", t.p999)] where ms > 0 {
            v["\(k)_intvty"] = 1000 / ms
        }
        self.init(label: config.label, date: date, hardware: config.hardware, framework: config.framework,
                  model: model, precision: config.precision, isl: config.inputLength,
                  osl: config.outputLength, conc: conc, values: v)
    }
}
