/// A JSON value that keeps object keys in input order.
///
/// Why not `JSONSerialization`/`Codable`: DeepSeek's encoder writes tool schemas, response formats
/// and tool arguments back into the prompt with Python's `json.dumps`, which keeps insertion
/// order and distinguishes `1` from `1.0`. Foundation reorders keys and loses that distinction.
public indirect enum OrderedJSON: Sendable, Equatable {
    case null
    case bool(Bool)
    /// An integer kept as its exact decimal text (Python ints have no size limit), e.g. `"-42"`.
    case integer(String)
    case float(Double)
    case string(String)
    case array([OrderedJSON])
    case object([Member])

    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: OrderedJSON
        public init(_ key: String, _ value: OrderedJSON) {
            self.key = key
            self.value = value
        }
    }

    /// The value for `key` when this is an object, else nil.
    public subscript(key: String) -> OrderedJSON? {
        guard case .object(let members) = self else { return nil }
        return members.first(where: { $0.key == key })?.value
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

// Literals keep tests and hand-built schemas short; a dictionary literal keeps its written order.
extension OrderedJSON: ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral, ExpressibleByStringLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral, ExpressibleByNilLiteral
{
    public init(dictionaryLiteral elements: (String, OrderedJSON)...) {
        self = .object(elements.map { Member($0.0, $0.1) })
    }
    public init(arrayLiteral elements: OrderedJSON...) { self = .array(elements) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .integer(String(value)) }
    public init(floatLiteral value: Double) { self = .float(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
}

// MARK: - Parsing

extension OrderedJSON {
    /// Parses JSON text with the same acceptance rules as Python's `json.loads`: surrounding
    /// whitespace is allowed, `NaN`/`Infinity`/`-Infinity` are accepted, raw control characters
    /// inside strings are rejected, and a repeated key keeps its first position but its last value.
    public static func parse(_ text: String) throws -> OrderedJSON {
        var parser = JSONByteParser(bytes: Array(text.utf8))
        return try parser.parseDocument()
    }

    public static func parse(bytes: [UInt8]) throws -> OrderedJSON {
        var parser = JSONByteParser(bytes: bytes)
        return try parser.parseDocument()
    }
}

private struct JSONByteParser {
    let bytes: [UInt8]
    var i = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseDocument() throws -> OrderedJSON {
        skipWhitespace()
        let value = try parseValue(depth: 0)
        skipWhitespace()
        if i != bytes.count { throw fail("extra data after the JSON value") }
        return value
    }

    func fail(_ what: String) -> ChatFormatError {
        .invalidJSON("\(what) at byte \(i)")
    }

    mutating func skipWhitespace() {
        while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
    }

    mutating func consume(_ literal: String) -> Bool {
        let lit = Array(literal.utf8)
        guard i + lit.count <= bytes.count, Array(bytes[i..<i + lit.count]) == lit else { return false }
        i += lit.count
        return true
    }

    mutating func parseValue(depth: Int) throws -> OrderedJSON {
        guard depth < 512 else { throw fail("nesting too deep") }
        guard i < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "n"): if consume("null") { return .null }
        case UInt8(ascii: "t"): if consume("true") { return .bool(true) }
        case UInt8(ascii: "f"): if consume("false") { return .bool(false) }
        case UInt8(ascii: "N"): if consume("NaN") { return .float(.nan) }
        case UInt8(ascii: "I"): if consume("Infinity") { return .float(.infinity) }
        case UInt8(ascii: "-"):
            if consume("-Infinity") { return .float(-.infinity) }
            return try parseNumber()
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: break
        }
        throw fail("unexpected character")
    }

    mutating func parseObject(depth: Int) throws -> OrderedJSON {
        i += 1
        var members: [OrderedJSON.Member] = []
        skipWhitespace()
        if consume("}") { return .object(members) }
        while true {
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try parseString()
            skipWhitespace()
            guard consume(":") else { throw fail("expected ':'") }
            skipWhitespace()
            let value = try parseValue(depth: depth + 1)
            if let existing = members.firstIndex(where: { $0.key == key }) {
                members[existing].value = value  // Python dict: first position, last value
            } else {
                members.append(.init(key, value))
            }
            skipWhitespace()
            if consume(",") { continue }
            if consume("}") { return .object(members) }
            throw fail("expected ',' or '}'")
        }
    }

    mutating func parseArray(depth: Int) throws -> OrderedJSON {
        i += 1
        var items: [OrderedJSON] = []
        skipWhitespace()
        if consume("]") { return .array(items) }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            if consume(",") { continue }
            if consume("]") { return .array(items) }
            throw fail("expected ',' or ']'")
        }
    }

    mutating func parseNumber() throws -> OrderedJSON {
        let start = i
        func digits() -> Int {
            let s = i
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
            return i - s
        }
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 else { throw fail("invalid number") }
        if bytes[i] == UInt8(ascii: "0") { i += 1 } else { _ = digits() }
        var isFloat = false
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            let save = i
            i += 1
            if digits() == 0 { i = save } else { isFloat = true }  // "1." is "1" followed by junk
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            let save = i
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            if digits() == 0 { i = save } else { isFloat = true }
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        if isFloat {
            guard let d = Double(text) else { throw fail("invalid number") }
            return .float(d)
        }
        return .integer(text == "-0" ? "0" : text)
    }

    mutating func parseString() throws -> String {
        i += 1  // opening quote
        var out = [UInt8]()
        while true {
            guard i < bytes.count else { throw fail("unterminated string") }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { i += 1; break }
            if b < 0x20 { throw fail("invalid control character in string") }
            if b != UInt8(ascii: "\\") { out.append(b); i += 1; continue }
            i += 1
            if let message = decodeJSONEscape(bytes, at: &i, into: &out) { throw fail(message) }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
