import ArgumentParser
import PCIHost
import VFIOAnalysis
import VFIOReport

public struct TreeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tree",
        abstract: "The bus topology as a tree (like lspci -tv) with each port's ACS state, groups and drivers; --format dot for Graphviz, one cluster per group; --json for nested nodes.")

    public enum Format: String, ExpressibleByArgument, CaseIterable, Sendable {
        case text, dot, json
    }

    @OptionGroup public var global: GlobalOptions
    @OptionGroup public var selection: FunctionSelection

    @Option(name: .long, help: "text (default), dot or json.")
    public var format: Format = .text

    @Flag(name: .long, help: "Machine-readable JSON (the same as --format json).")
    public var json = false

    public init() {}

    public func validate() throws {
        if json && format != .text && format != .json { throw ValidationError("--json and --format \(format.rawValue) exclude each other") }
    }

    public func run() throws {
        // The Graphviz form colours each function by its unit's verdict (the report reads everything); the text and
        // JSON trees print identity, drivers, groups and the ports' ACS state only.
        let dot = !json && format == .dot
        let model = try global.loadHost(options: ScanOptions(decodeCapabilities: true, facts: dot ? .all : .listing))
        printHostDiagnostics(model)
        var shown = model
        if let chosen = try selection.chosen(in: model) {
            // The chosen functions with the bridges above them, so each still hangs from its root bus.
            var keep = Set(chosen)
            for a in chosen { keep.formUnion(model.function(a)?.upstream ?? []) }
            shown = model.restricted(to: keep)
        }
        switch json ? .json : format {
        case .text: printText(TreeRender.text(shown, style: global.style), colour: global.style.color)
        case .dot:
            let report = Reporter.report(model)
            var verdicts: [PCIAddress: UnitVerdict] = [:]
            var notCandidates: Set<PCIAddress> = []
            var reasons: [PCIAddress: String] = [:]
            for u in report.units {
                for m in u.members {
                    verdicts[m] = u.verdict
                    reasons[m] = u.decidingFinding?.code.rawValue
                }
                if u.verdict == .blocked, u.decidingFinding?.code.line == .candidate { notCandidates.formUnion(u.members) }
            }
            printText(TreeRender.dot(shown, verdicts: verdicts, reasons: reasons, notCandidates: notCandidates))
        case .json: try JSONOutput.write(DescribedTree(shown))
        }
    }
}
