import Hummingbird
import RiptideEngine
import RiptideTokenizer

/// An error answered in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`.
/// The OpenAI SDKs raise `BadRequestError` (400), `AuthenticationError` (401), `NotFoundError`
/// (404), `RateLimitError` (429) and `InternalServerError` (5xx) from the status, carrying `message`.
struct APIError: Error, Sendable, CustomStringConvertible {
    var status: HTTPResponse.Status
    var message: String
    var type: String
    var param: String?
    var code: String?

    var description: String { "\(status.code) \(type): \(message)" }

    static func invalid(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }

    static func modelNotFound(_ name: String, served: String) -> APIError {
        APIError(
            status: .notFound, message: "The model '\(name)' does not exist; this server serves '\(served)'.",
            type: "invalid_request_error", param: "model", code: "model_not_found")
    }

    static func bodyTooLarge(limit: Int?) -> APIError {
        APIError(
            status: .contentTooLarge,
            message: "The request body is larger than the limit" + (limit.map { " of \($0) bytes." } ?? "."),
            type: "invalid_request_error", param: nil, code: "request_too_large")
    }

    static let unauthorized = APIError(
        status: .unauthorized, message: "Missing or invalid API key: send 'Authorization: Bearer <key>'.",
        type: "invalid_request_error", param: nil, code: "invalid_api_key")

    static func notFound(_ path: String) -> APIError {
        APIError(status: .notFound, message: "No route for \(path).", type: "invalid_request_error", param: nil, code: "not_found")
    }

    static let draining = APIError(
        status: .serviceUnavailable, message: EngineError.shuttingDown.description, type: "service_unavailable",
        param: nil, code: "server_shutting_down")

    static func internalError(_ message: String) -> APIError {
        APIError(status: .internalServerError, message: message, type: "server_error", param: nil, code: "internal_error")
    }

    /// How an engine refusal or failure is answered. `param` names the request field a
    /// context-length error is about (`messages`, `prompt`, `input_ids`).
    static func engine(_ error: EngineError, param: String? = nil) -> APIError {
        switch error {
        case .contextLength:
            return .invalid(error.description, param: param, code: "context_length_exceeded")
        case .tooLarge:
            return .invalid(error.description, param: param, code: "request_too_large")
        case .invalidRequest(let m):
            return .invalid(m)
        case .queueFull:
            return APIError(
                status: .tooManyRequests, message: error.description, type: "rate_limit_error", param: nil,
                code: "queue_full")
        case .shuttingDown:
            return .draining
        case .internalError:
            return .internalError(error.description)
        }
    }

    /// Any error a handler threw, as an API error (unknown errors are internal).
    static func from(_ error: any Error, param: String? = nil) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as EngineError: return .engine(e, param: param)
        case let e as ChatFormatError: return .invalid(e.description, param: param)
        case let e as HTTPError where e.status == .notFound: return .notFound(e.body ?? "this path")
        case let e as HTTPError where e.status == .contentTooLarge: return .bodyTooLarge(limit: nil)
        case let e as HTTPError where e.status.code < 500:
            return APIError(status: e.status, message: e.body ?? e.status.reasonPhrase, type: "invalid_request_error")
        default: return .internalError("\(error)")
        }
    }

    var json: OrderedJSON {
        [
            "error": [
                "message": .string(message), "type": .string(type), "param": .optionalString(param),
                "code": .optionalString(code),
            ],
        ]
    }

    var response: Response { JSONOutput.response(json, status: status) }
}
