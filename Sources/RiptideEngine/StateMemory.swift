/// The state-memory pool in bytes: a ledger of what each holder (a running sequence, a prefix
/// snapshot) is charged. Admission, growth and eviction decisions read it; the idle check compares
/// it with what the holders really hold.
struct StateMemory {
    let capacity: Int
    private(set) var used = 0
    private var charges: [Int: Int] = [:]   // holder key → bytes
    private var nextKey = 0

    init(capacity: Int) { self.capacity = capacity }

    var free: Int { capacity - used }

    /// A fresh holder key.
    mutating func newKey() -> Int {
        nextKey += 1
        return nextKey
    }

    /// Sets a holder's charge (0 removes it).
    mutating func charge(_ key: Int, bytes: Int) {
        used += bytes - (charges[key] ?? 0)
        charges[key] = bytes == 0 ? nil : bytes
    }

    mutating func release(_ key: Int) { charge(key, bytes: 0) }

    func charged(_ key: Int) -> Int { charges[key] ?? 0 }

    var holders: Int { charges.count }

    /// Problems if the ledger disagrees with the holders' real bytes (key → bytes).
    func audit(_ actual: [Int: Int]) -> [String] {
        var problems: [String] = []
        for (key, bytes) in charges where actual[key] != bytes {
            problems.append("holder \(key) is charged \(bytes) bytes but holds \(actual[key].map(String.init) ?? "nothing")")
        }
        for (key, bytes) in actual where charges[key] == nil && bytes > 0 {
            problems.append("holder \(key) holds \(bytes) bytes that are not charged")
        }
        let sum = charges.values.reduce(0, +)
        if sum != used { problems.append("the ledger's total \(used) differs from its charges' sum \(sum)") }
        return problems
    }
}
