import ArgumentParser
import PCIHost
import VFIOReport

public struct TreeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tree",
        abstract: "The bus topology as a tree (like lspci -tv) with each port's ACS state, groups and drivers; --format dot for Graphviz, one cluster per group.")

    public enum Format: String, ExpressibleByArgument, CaseIterable, Sendable {
        case text, dot
    }

    @OptionGroup public var global: GlobalOptions

    @Option(name: .long, help: "text (default) or dot.")
    public var format: Format = .text

    public init() {}

    public func run() throws {
        let model = try global.loadHost(options: ScanOptions(decodeCapabilities: true))
        printHostDiagnostics(model)
        print(format == .dot ? TreeRender.dot(model) : TreeRender.text(model), terminator: "")
    }
}
