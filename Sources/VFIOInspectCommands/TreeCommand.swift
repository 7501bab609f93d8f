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

    @Option(name: [.customShort("s"), .customLong("select")], help: ArgumentHelp("Only the functions matching this selector (as lspci -s), with the bridges above them. Repeatable.", valueName: "SELECTOR"))
    public var select: [String] = []

    public func validate() throws {
        try validateSelectors(select)
    }

    public init() {}

    public func run() throws {
        let model = try global.loadHost(options: ScanOptions(decodeCapabilities: true))
        printHostDiagnostics(model)
        var shown = model
        if !select.isEmpty {
            let chosen = try selectedFunctions(select, in: model)
            var keep = Set(chosen)
            for a in chosen { keep.formUnion(model.function(a)?.upstream ?? []) }
            shown = model.restricted(to: keep)
        }
        print(format == .dot ? TreeRender.dot(shown) : TreeRender.text(shown), terminator: "")
    }
}
