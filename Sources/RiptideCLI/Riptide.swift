import ArgumentParser
import RiptideKernels

@main
struct Riptide: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "riptide",
        abstract: "Serve and benchmark DeepSeek-V4-class models on CPU.",
        subcommands: [
            GenerateCommand.self, LogitsCommand.self, InitModelCommand.self, InspectCommand.self,
            TokenizeCommand.self, BenchTokenizerCommand.self, BenchCommand.self, ReportCommand.self,
            RooflineCommand.self, BenchKernelsCommand.self, BenchModelCommand.self, BenchEngineCommand.self, ServeCommand.self,
        ])

    /// ArgumentParser's entry, after the allocator is set up for the forward pass.
    static func main() async {
        keepFreedMemoryInHeap()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand { try await asyncCommand.run() } else { try command.run() }
        } catch {
            exit(withError: error)
        }
    }
}
