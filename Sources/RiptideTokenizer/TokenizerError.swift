import Foundation

/// Why a tokenizer could not be loaded. Every case names the file, so a CLI or server log
/// tells the operator exactly which `tokenizer.json` is at fault.
public struct TokenizerError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        case unreadable      // missing file, permissions, I/O error
        case invalidJSON     // not parseable as JSON at all
        case invalidFormat   // JSON, but not a tokenizer.json we understand
        case unsupported     // a valid tokenizer.json using features we do not implement
    }

    public let kind: Kind
    public let path: String
    public let problem: String

    public init(_ kind: Kind, path: String, _ problem: String) {
        self.kind = kind
        self.path = path
        self.problem = problem
    }

    public var description: String {
        switch kind {
        case .unreadable: return "cannot read tokenizer file '\(path)': \(problem)"
        case .invalidJSON: return "tokenizer file '\(path)' is not valid JSON: \(problem)"
        case .invalidFormat: return "tokenizer file '\(path)' is malformed: \(problem)"
        case .unsupported: return "tokenizer file '\(path)' uses an unsupported feature: \(problem)"
        }
    }
}

extension TokenizerError: LocalizedError {
    public var errorDescription: String? { description }
}
