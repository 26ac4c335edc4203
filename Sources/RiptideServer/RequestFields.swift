import RiptideTokenizer

/// Typed access to the members of a JSON request object. Every failure is a 400 naming the
/// field (`param`), e.g. "'max_tokens' must be an integer ≥ 1". A member that is JSON null
/// counts as absent, as the OpenAI API treats it.
struct JSONFields: Sendable {
    let json: OrderedJSON
    /// Prefix of parameter names in errors ("" or "sampling_params.").
    let prefix: String

    init(_ json: OrderedJSON, prefix: String = "", what: String = "the request body") throws {
        guard case .object = json else { throw APIError.invalid("\(what) must be a JSON object") }
        self.json = json
        self.prefix = prefix
    }

    /// Parses a request body (any JSON error is a 400).
    static func parseBody(_ bytes: [UInt8]) throws -> JSONFields {
        let json: OrderedJSON
        do {
            json = try OrderedJSON.parse(bytes: bytes)
        } catch let e as ChatFormatError {
            throw APIError.invalid("The request body is not valid JSON (\(e.description)).", code: "invalid_json")
        }
        return try JSONFields(json)
    }

    func name(_ key: String) -> String { prefix + key }

    /// The member's value; nil when absent or null.
    subscript(_ key: String) -> OrderedJSON? {
        guard let v = json[key], !v.isNull else { return nil }
        return v
    }

    func has(_ key: String) -> Bool { self[key] != nil }

    func fail(_ key: String, _ expected: String) -> APIError {
        .invalid("'\(name(key))' must be \(expected)", param: name(key))
    }

    func bool(_ key: String) throws -> Bool? {
        guard let v = self[key] else { return nil }
        guard case .bool(let b) = v else { throw fail(key, "a boolean") }
        return b
    }

    func string(_ key: String) throws -> String? {
        guard let v = self[key] else { return nil }
        guard case .string(let s) = v else { throw fail(key, "a string") }
        return s
    }

    /// An integer in `range`. A float with an integral value (`5.0`) is accepted, as pydantic does.
    func int(_ key: String, in range: ClosedRange<Int> = Int.min...Int.max, expected: String? = nil) throws -> Int? {
        guard let v = self[key] else { return nil }
        let what = expected ?? Self.describe(range)
        guard let n = Self.integer(v), range.contains(n) else { throw fail(key, what) }
        return n
    }

    /// A finite number in `range`.
    func number(_ key: String, in range: ClosedRange<Double> = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude,
                expected: String? = nil) throws -> Double? {
        guard let v = self[key] else { return nil }
        let what = expected ?? "a number in [\(Self.short(range.lowerBound)), \(Self.short(range.upperBound))]"
        guard let d = Self.double(v), d.isFinite, range.contains(d) else { throw fail(key, what) }
        return d
    }

    func object(_ key: String) throws -> JSONFields? {
        guard let v = self[key] else { return nil }
        guard case .object = v else { throw fail(key, "an object") }
        return try JSONFields(v, prefix: name(key) + ".")
    }

    /// A string or a list of strings (OpenAI `stop`).
    func stringOrList(_ key: String) throws -> [String]? {
        guard let v = self[key] else { return nil }
        switch v {
        case .string(let s): return [s]
        case .array(let items):
            return try items.map { item in
                guard case .string(let s) = item else { throw fail(key, "a string or a list of strings") }
                return s
            }
        default: throw fail(key, "a string or a list of strings")
        }
    }

    /// A list of integers, each in `range`.
    func intList(_ key: String, in range: ClosedRange<Int>) throws -> [Int]? {
        guard let v = self[key] else { return nil }
        guard case .array(let items) = v else { throw fail(key, "a list of integers") }
        return try items.map { item in
            guard let n = Self.integer(item), range.contains(n) else {
                throw fail(key, "a list of integers, each \(Self.describe(range).replacingOccurrences(of: "an integer ", with: ""))")
            }
            return n
        }
    }

    static func integer(_ v: OrderedJSON) -> Int? {
        switch v {
        case .integer(let digits): return Int(digits)
        case .float(let d) where d.isFinite && d == d.rounded() && abs(d) < 9e15: return Int(d)
        default: return nil
        }
    }

    static func double(_ v: OrderedJSON) -> Double? {
        switch v {
        case .integer(let digits): return Double(digits)
        case .float(let d): return d
        default: return nil
        }
    }

    static func describe(_ range: ClosedRange<Int>) -> String {
        switch (range.lowerBound, range.upperBound) {
        case (Int.min, Int.max): return "an integer"
        case (let lo, Int.max): return "an integer ≥ \(lo)"
        case (Int.min, let hi): return "an integer ≤ \(hi)"
        case (let lo, let hi): return "an integer in [\(lo), \(hi)]"
        }
    }

    static func short(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
    }
}
