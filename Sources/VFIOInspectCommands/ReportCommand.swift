import ArgumentParser
import PCIHost
import VFIOAnalysis
import VFIOReport
#if canImport(Glibc)
import Glibc
#endif

func terminalStyle() -> Style {
    let noColor = getenv("NO_COLOR").map { String(cString: $0).isEmpty == false } ?? false
    return Style(color: isatty(1) != 0 && !noColor)
}

public struct ReportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Every IOMMU group with its verdict (ready, needs-preparation, blocked), its members and the findings; host findings first.")

    @OptionGroup public var global: GlobalOptions

    @Flag(name: .long, help: "Machine-readable JSON: the list contract plus host.findings, groups with verdict/findings/why, predictedGroups.")
    public var json = false

    public init() {}

    public func run() throws {
        let model = try global.loadHost(options: ScanOptions(decodeCapabilities: true))
        let report = Reporter.report(model)
        printHostDiagnostics(model)
        if json {
            print(try JSONOutput.render(DescribedReport(model, report)), terminator: "")
        } else {
            print(ReportText.render(model, report, style: terminalStyle()), terminator: "")
        }
    }
}

public struct CheckCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Readiness of a planned assignment, expanded to whole IOMMU groups.",
        discussion: """
            One line per subject (id in --json), each PASS, WARN, FAIL or UNKNOWN (the input lacks a fact the rule needs; \
            the line says which and what would supply it). Exit 0 ready, 1 needs preparation or warnings, 2 blocked, \
            3 input unreadable, 4 undetermined (nothing known blocks, but something that decides is unknown), \
            5 a selector matched nothing.
            """)

    @OptionGroup public var global: GlobalOptions

    @Argument(help: ArgumentHelp("The functions to assign, as lspci -s takes them.", valueName: "SELECTOR"))
    public var selectors: [String]

    @Flag(name: .long, help: "Machine-readable JSON.")
    public var json = false

    public init() {}

    public func validate() throws {
        guard !selectors.isEmpty else { throw ValidationError("name the functions to check (e.g. 01:00.0)") }
        try validateSelectors(selectors)
    }

    public func run() throws {
        let model = try global.loadHost(options: ScanOptions(decodeCapabilities: true))
        let chosen = try selectedFunctions(selectors, in: model)
        let result = Reporter.check(model, selected: chosen)
        printHostDiagnostics(model)
        let status = CheckLines.exitStatus(result.verdict)
        if json {
            let described = DescribedCheck(result)
            print(try JSONOutput.render(described), terminator: "")
        } else {
            print(ReportText.renderCheck(model, result, style: terminalStyle()), terminator: "")
        }
        if status != 0 { throw ExitCode(status) }
    }
}
