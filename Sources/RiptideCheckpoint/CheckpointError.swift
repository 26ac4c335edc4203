/// Why a checkpoint could not be read. Every case names the file, and the tensor where there is one,
/// so a user with a corrupt download knows which shard to fetch again.
public struct CheckpointError: Error, Equatable, CustomStringConvertible, Sendable {
    public let file: String
    public let tensor: String?
    public let problem: String

    public init(file: String, tensor: String? = nil, _ problem: String) {
        self.file = file
        self.tensor = tensor
        self.problem = problem
    }

    public var description: String {
        if let tensor { return "\(file): tensor '\(tensor)': \(problem)" }
        return "\(file): \(problem)"
    }
}
