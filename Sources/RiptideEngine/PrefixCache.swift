import RiptideModel

/// Prefix reuse: a radix tree over token ids with 128-token edges (SGLang's radix cache with a page
/// of 128). A node may hold the state snapshot of the sequence that had computed exactly its path:
/// the window ring, the compressors' pending rows and the (shared) compressed entries. Snapshots
/// are evicted least recently used; the tree prunes nodes left without snapshot or children.
struct PrefixCache {
    static let block = 128

    final class Node {
        var children: [[Int]: Node] = [:]
        weak var parent: Node?
        let key: [Int]
        var snapshot: SequenceState?
        var memoryKey = 0
        var lastUse = 0.0
        init(key: [Int], parent: Node?) { self.key = key; self.parent = parent }
    }

    private let root = Node(key: [], parent: nil)
    private(set) var snapshots = 0
    /// Bytes of all snapshots (they never change once stored), kept so that stats need no walk.
    private(set) var bytes = 0

    /// The deepest snapshot whose path is a prefix of `tokens` and leaves at least one token of
    /// them to compute (logits come from computing). Marks it used.
    mutating func longestMatch(_ tokens: [Int], now: Double) -> (length: Int, state: SequenceState)? {
        var node = root, best: Node?, depth = 0
        while (depth + 1) * Self.block <= tokens.count - 1,
              let child = node.children[Array(tokens[(depth * Self.block)..<((depth + 1) * Self.block)])] {
            node = child
            depth += 1
            if child.snapshot != nil { best = child }
        }
        guard let best, let state = best.snapshot else { return nil }
        best.lastUse = now
        return (state.position, state)
    }

    /// Tokens of `tokens` a lookup would reuse (for the longest-prefix-match policy); no side effects.
    func matchLength(_ tokens: [Int]) -> Int {
        var node = root, depth = 0, best = 0
        while (depth + 1) * Self.block <= tokens.count - 1,
              let child = node.children[Array(tokens[(depth * Self.block)..<((depth + 1) * Self.block)])] {
            node = child
            depth += 1
            if child.snapshot != nil { best = depth * Self.block }
        }
        return best
    }

    /// Stores `state` (which has computed exactly `tokens[0..<state.position]`, a multiple of 128)
    /// under memory key `key`. False if that prefix already has a snapshot (the same prefix
    /// computes the same state, so the old one stays).
    mutating func insert(_ tokens: [Int], state: SequenceState, memoryKey key: Int, now: Double) -> Bool {
        let length = state.position
        precondition(length % Self.block == 0 && length > 0 && length <= tokens.count)
        var node = root
        for depth in 0..<(length / Self.block) {
            let edge = Array(tokens[(depth * Self.block)..<((depth + 1) * Self.block)])
            if let child = node.children[edge] { node = child } else {
                let child = Node(key: edge, parent: node)
                node.children[edge] = child
                node = child
            }
        }
        node.lastUse = now
        if node.snapshot != nil { return false }
        node.snapshot = state
        node.memoryKey = key
        snapshots += 1
        bytes += state.bytes
        return true
    }

    /// Removes the least recently used snapshot; returns its memory key, or nil when empty.
    mutating func evictOldest() -> Int? {
        var oldest: Node?
        var stack = [root]
        while let n = stack.popLast() {
            if n.snapshot != nil, n.lastUse < (oldest?.lastUse ?? .infinity) { oldest = n }
            stack += n.children.values
        }
        guard let oldest else { return nil }
        let key = oldest.memoryKey
        drop(oldest)
        return key
    }

    /// Removes every snapshot; returns their memory keys.
    mutating func removeAll() -> [Int] {
        var keys: [Int] = []
        var stack = [root]
        while let n = stack.popLast() {
            if n.snapshot != nil { keys.append(n.memoryKey) }
            stack += n.children.values
        }
        root.children = [:]
        snapshots = 0
        bytes = 0
        return keys
    }

    /// Memory key → bytes of every snapshot, for the ledger audit.
    func heldBytes() -> [Int: Int] {
        var out: [Int: Int] = [:]
        var stack = [root]
        while let n = stack.popLast() {
            if let s = n.snapshot { out[n.memoryKey] = s.bytes }
            stack += n.children.values
        }
        return out
    }

    private mutating func drop(_ node: Node) {
        bytes -= node.snapshot?.bytes ?? 0
        node.snapshot = nil
        snapshots -= 1
        var n = node
        while n.snapshot == nil, n.children.isEmpty, let parent = n.parent {
            parent.children[n.key] = nil
            n = parent
        }
    }
}
