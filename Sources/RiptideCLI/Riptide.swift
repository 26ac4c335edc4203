import ArgumentParser

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
}
