import ArgumentParser

@main
struct Riptide: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "riptide",
        abstract: "Serve and benchmark DeepSeek-V4-class models on CPU.",
        subcommands: [BenchCommand.self, ReportCommand.self])
}
