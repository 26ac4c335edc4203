/// A small JSON parser for tokenizer.json. Foundation's JSONSerialization spends most of its time
/// bridging 250k values to NSNumber/NSString and casting them back; this builds plain Swift values.
/// Objects keep their members in order as parallel key and value arrays: the large ones (vocab)
/// are only iterated, the small ones are searched linearly.
enum JSONValue {
    case null
    case bool(Bool)
    case number(Double, isInteger: Bool)
    case string(String)
    case array([JSONValue])
    case object(keys: [String], values: [JSONValue])

    subscript(key: String) -> JSONValue? {
        guard case .object(let keys, let values) = self, let i = keys.firstIndex(of: key) else { return nil }
        return values[i]
    }
    /// Members in file order.
    var object: Zip2Sequence<[String], [JSONValue]>? {
        if case .object(let k, let v) = self { return zip(k, v) }
        return nil
    }
    var array: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    var string: String? { if case .string(let s) = self { return s }; return nil }
    var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    var double: Double? { if case .number(let d, _) = self { return d }; return nil }
    var int: Int? {
        if case .number(let d, true) = self, let i = Int(exactly: d) { return i }
        return nil
    }
    var isNull: Bool { if case .null = self { return true }; return false }
}

struct JSONSyntaxError: Error, CustomStringConvertible {
    let offset: Int
    let message: String
    var description: String { "\(message) at byte \(offset)" }
}

struct JSONReader {
    private let b: UnsafeBufferPointer<UInt8>
    private var i = 0

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws -> JSONValue {
        var r = JSONReader(b: bytes)
        let v = try r.value(depth: 0)
        r.skipSpace()
        if r.i != bytes.count { throw r.fail("unexpected trailing characters") }
        return v
    }

    private init(b: UnsafeBufferPointer<UInt8>) { self.b = b }

    private func fail(_ message: String) -> JSONSyntaxError { JSONSyntaxError(offset: i, message: message) }

    private mutating func skipSpace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    private mutating func expect(_ literal: StaticString, _ v: JSONValue) throws -> JSONValue {
        let n = literal.utf8CodeUnitCount
        guard i + n <= b.count, (0..<n).allSatisfy({ b[i + $0] == literal.utf8Start[$0] }) else {
            throw fail("invalid literal")
        }
        i += n
        return v
    }

    private mutating func value(depth: Int) throws -> JSONValue {
        guard depth < 512 else { throw fail("nesting too deep") }
        skipSpace()
        guard i < b.count else { throw fail("unexpected end of input") }
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1
            var keys: [String] = []
            var values: [JSONValue] = []
            skipSpace()
            if i < b.count && b[i] == UInt8(ascii: "}") { i += 1; return .object(keys: keys, values: values) }
            while true {
                skipSpace()
                guard i < b.count && b[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                let key = try string()
                skipSpace()
                guard i < b.count && b[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                i += 1
                keys.append(key)
                values.append(try value(depth: depth + 1))
                skipSpace()
                guard i < b.count else { throw fail("unterminated object") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; return .object(keys: keys, values: values) }
                throw fail("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            i += 1
            var items: [JSONValue] = []
            skipSpace()
            if i < b.count && b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            while true {
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard i < b.count else { throw fail("unterminated array") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                throw fail("expected ',' or ']'")
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try expect("true", .bool(true))
        case UInt8(ascii: "f"): return try expect("false", .bool(false))
        case UInt8(ascii: "n"): return try expect("null", .null)
        default: return try number()
        }
    }

    private mutating func number() throws -> JSONValue {
        let start = i
        var integer = true
        if i < b.count && b[i] == UInt8(ascii: "-") { i += 1 }
        while i < b.count {
            let c = b[i]
            if c >= 0x30 && c <= 0x39 { i += 1; continue }
            if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
                || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") { integer = false; i += 1; continue }
            break
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        guard i > start, let d = Double(text) else { i = start; throw fail("invalid value") }
        return .number(d, isInteger: integer)
    }

    /// A string starting at the opening quote. Escape-free strings (nearly all) are decoded straight
    /// from the input bytes.
    private mutating func string() throws -> String {
        i += 1
        let start = i
        while i < b.count && b[i] != UInt8(ascii: "\"") && b[i] != UInt8(ascii: "\\") && b[i] >= 0x20 { i += 1 }
        guard i < b.count else { throw fail("unterminated string") }
        if b[i] == UInt8(ascii: "\"") {
            defer { i += 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        }
        var out = Array(b[start..<i])
        while true {
            guard i < b.count else { throw fail("unterminated string") }
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; return String(decoding: out, as: UTF8.self) }
            if c < 0x20 { throw fail("control character in string") }
            if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
            i += 1
            if let message = decodeJSONEscape(b, at: &i, into: &out) { throw fail(message) }
        }
    }
}
