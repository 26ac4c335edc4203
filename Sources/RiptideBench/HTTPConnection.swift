import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// `http://host:port[/prefix]` of the server under test. Plain HTTP only: benchmarks talk to a
/// local or in-cluster server, and leaving TLS out keeps swift-nio-ssl/BoringSSL (and minutes of
/// CI build time) out of the package.
public struct ServerAddress: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var pathPrefix: String

    public init(baseURL: String) throws {
        guard let url = URL(string: baseURL), url.scheme == "http", let host = url.host, !host.isEmpty else {
            throw BenchError.input("base URL must be http://host[:port][/prefix], got \(baseURL)")
        }
        self.host = host
        port = url.port ?? 80
        pathPrefix = url.path.hasSuffix("/") ? String(url.path.dropLast()) : url.path
    }

    var hostHeader: String { port == 80 ? host : "\(host):\(port)" }
}

/// One keep-alive HTTP/1.1 connection, owned by one closed-loop worker (so exactly `conc`
/// connections carry exactly `conc` in-flight requests, with no pool in between).
struct HTTPConnection {
    typealias Channel = NIOAsyncChannel<StampedPart, HTTPClientRequestPart>
    typealias Inbound = NIOAsyncChannelInboundStream<StampedPart>.AsyncIterator

    /// A response part with the time it was read off the socket.
    struct StampedPart: Sendable {
        var part: HTTPClientResponsePart
        var at: UInt64
    }

    /// Timestamps reads on the event loop itself, before the hop to the awaiting task, so a busy
    /// machine's task-wakeup latency does not leak into TTFT/ITL (aiohttp's timestamps are taken
    /// on its event loop too).
    final class ArrivalStamper: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPClientResponsePart
        typealias InboundOut = StampedPart
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let stamped = StampedPart(part: unwrapInboundIn(data), at: DispatchTime.now().uptimeNanoseconds)
            context.fireChannelRead(wrapInboundOut(stamped))
        }
    }
    typealias Outbound = NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>

    static func connect(_ address: ServerAddress) async throws -> Channel {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(30))
            .connect(host: address.host, port: address.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ArrivalStamper())
                    return try Channel(wrappingChannelSynchronously: channel)
                }
            }
    }

    static func head(_ method: HTTPMethod, _ address: ServerAddress, path: String,
                     headers extra: [(String, String)], bodyLength: Int?) -> HTTPRequestHead {
        var h = HTTPHeaders([("Host", address.hostHeader), ("User-Agent", "riptide-bench")])
        if let bodyLength { h.add(name: "Content-Length", value: String(bodyLength)) }
        for (k, v) in extra { h.add(name: k, value: v) }
        return HTTPRequestHead(version: .http1_1, method: method, uri: address.pathPrefix + path, headers: h)
    }

    /// Sends one request and streams the response body to `onBody` with the arrival time of each
    /// read. Returns the status and whether the connection can carry another request.
    static func exchange(_ head: HTTPRequestHead, body: ByteBuffer?, inbound: inout Inbound, outbound: Outbound,
                         onBody: (_ status: Int, ByteBuffer, UInt64) -> Void) async throws -> (status: Int, reusable: Bool) {
        var parts: [HTTPClientRequestPart] = [.head(head)]
        if let body { parts.append(.body(.byteBuffer(body))) }
        parts.append(.end(nil))
        var status = 0, keepAlive = false, sawHead = false
        do {
            try await outbound.write(contentsOf: parts)
            while let stamped = try await inbound.next() {
                switch stamped.part {
                case let .head(h):
                    sawHead = true
                    status = Int(h.status.code)
                    keepAlive = h.isKeepAlive
                case let .body(buffer):
                    onBody(status, buffer, stamped.at)
                case .end:
                    return (status, keepAlive)
                }
            }
        } catch {
            if !sawHead { throw ClosedBeforeResponse() }
            throw error
        }
        if !sawHead { throw ClosedBeforeResponse() }
        throw BenchError.server("connection closed mid-response")
    }

    /// The server closed an idle keep-alive connection before answering (llama-server does this
    /// after every streamed response while still advertising keep-alive). Safe to resend on a new
    /// connection: no response byte was seen.
    struct ClosedBeforeResponse: Error {}

    /// One-shot request on a fresh connection (model discovery).
    static func fetch(_ address: ServerAddress, path: String) async throws -> (Int, Data) {
        let channel = try await connect(address)
        return try await channel.executeThenClose { inbound, outbound in
            var it = inbound.makeAsyncIterator()
            var data = Data()
            let (status, _) = try await exchange(head(.GET, address, path: path, headers: [], bodyLength: nil),
                                                 body: nil, inbound: &it, outbound: outbound) { _, buf, _ in
                data.append(contentsOf: buf.readableBytesView)
            }
            return (status, data)
        }
    }
}
