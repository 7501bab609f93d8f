import ArgumentParser
import PCIHost
import VFIOAnalysis
import VFIOReport
#if canImport(Glibc)
import Glibc
#endif

/// The width of the terminal on standard output (`COLUMNS` first), or `nil` when it is not a terminal.
func terminalWidth() -> Int? {
    guard isatty(1) != 0 else { return nil }
    if let columns = getenv("COLUMNS").flatMap({ Int(String(cString: $0)) }), columns > 0 { return columns }
    var size = winsize()
    guard ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
    return Int(size.ws_col)
}

public struct ReportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Every IOMMU group with its verdict (ready, needs-preparation, blocked, undetermined), its members and the findings; host findings first.",
        discussion: """
            --summary prints one line per unit: the verdict, the group, its members (a slot's functions collapsed as \
            01:00.{0-3}), what they are, and the finding that decides the verdict; on a terminal each line is cut to \
            its width (piped, lines are whole). The full report stays the default \
            whatever the terminal size, so what a terminal shows is what a pipe gets. -s/-d/--verdict pick whole units.
            """)

    @OptionGroup public var global: GlobalOptions
    @OptionGroup public var selection: FunctionSelection

    @Option(name: .long, help: ArgumentHelp("Only units with this verdict: ready, needs-preparation, blocked or undetermined.", valueName: "VERDICT"))
    public var verdict: UnitVerdict?

    @Flag(name: .long, help: "One line per unit, then the counts.")
    public var summary = false

    @Flag(name: .customLong("exit-status"), help: "Exit as check does, with the worst verdict of the units shown: 0 ready, 1 needs preparation, 2 blocked, 4 undetermined.")
    public var exitStatus = false

    @Flag(name: .long, help: "Machine-readable JSON: the list contract plus host.findings, groups with verdict/findings/why, predictedGroups.")
    public var json = false

    public init() {}

    public func validate() throws {
        if summary && json { throw ValidationError("--summary and --json exclude each other") }
    }

    public func run() throws {
        let model = try global.loadHost(options: ScanOptions(decodeCapabilities: true, resolveVFIOVariants: true))
        let chosen = try selection.chosen(in: model).map(Set.init)
        if json { return try writeJSON(model, chosen: chosen) }
        if !summary { return try writeText(model, chosen: chosen) }
        let report = Reporter.report(model)
        let units = report.units(holding: chosen, verdict: verdict)
        printHostDiagnostics(model)
        printText(ReportText.renderSummary(model, report, units: units, style: global.style, width: terminalWidth()), colour: global.style.color)
        try requireVerdictMatched(verdict, matched: !units.isEmpty)
        if exitStatus {
            try gateStatus(units.map(\.verdict), filtered: !selection.isEmpty || verdict != nil)
        }
    }

    /// The indices in `plan` of the units holding a chosen function (every unit without a selection) and, with
    /// `--verdict`, having that verdict: a first pass that evaluates each such unit and keeps only its verdict.
    func keptUnits(_ plan: ReportPlan, _ model: HostModel, chosen: Set<PCIAddress>?) -> [Int] {
        let held = plan.units.indices.filter { i in chosen.map { c in plan.units[i].members.contains(where: c.contains) } ?? true }
        guard let verdict else { return held }
        return held.filter { Reporter.evaluate(plan.units[$0], plan, model).verdict == verdict }
    }

    /// The text report of the units the selection holds, each unit evaluated and printed in turn (its findings do not
    /// outlive its text; with `--verdict`, a first pass keeps only the verdicts), as `ReportText.render` would print
    /// them all.
    func writeText(_ model: HostModel, chosen: Set<PCIAddress>?) throws {
        let plan = Reporter.plan(model)
        let kept = keptUnits(plan, model, chosen: chosen)
        printHostDiagnostics(model)
        var verdicts: [UnitVerdict] = []
        verdicts.reserveCapacity(kept.count)
        let units = kept.lazy.map { i in
            let unit = Reporter.evaluate(plan.units[i], plan, model)
            verdicts.append(unit.verdict)
            return unit
        }
        ReportText.write(model, hostFindings: plan.hostFindings, prediction: plan.prediction, of: plan.units.count,
                         units: units, style: global.style) { printText($0, colour: global.style.color) }
        try requireVerdictMatched(verdict, matched: !kept.isEmpty)
        if exitStatus {
            try gateStatus(verdicts, filtered: !selection.isEmpty || verdict != nil)
        }
    }

    /// `--json`: the units the selection holds, each evaluated as it is written (a host's thousands of units do
    /// not all hold their findings at once, and units the selection leaves out are never evaluated). With
    /// `--verdict`, which units are written depends on their verdicts: a first pass keeps only their verdicts.
    func writeJSON(_ model: HostModel, chosen: Set<PCIAddress>?) throws {
        let plan = Reporter.plan(model)
        let kept = keptUnits(plan, model, chosen: chosen)
        printHostDiagnostics(model)
        let written = WrittenVerdicts(count: kept.count)
        try JSONOutput.write(DescribedReport(model, plan, units: kept, recording: written))
        try requireVerdictMatched(verdict, matched: !kept.isEmpty)
        if exitStatus {
            // Every unit is written (an error would have thrown), so every verdict is there; one that is not is asked again.
            let verdicts = kept.indices.map { written.verdicts[$0] ?? Reporter.evaluate(plan.units[kept[$0]], plan, model).verdict }
            try gateStatus(verdicts, filtered: !selection.isEmpty || verdict != nil)
        }
    }
}

public struct CheckCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Readiness of a planned assignment, expanded to whole IOMMU groups.",
        discussion: """
            One line per subject (id in --json), each PASS, WARN, FAIL or UNKNOWN (the input lacks a fact the rule needs; \
            the line says which and what would supply it). Exit 0 ready (cautions alone leave it ready), 1 needs preparation, 2 blocked, \
            3 input unreadable, 4 undetermined (nothing known blocks, but something that decides is unknown), \
            5 a selector matched nothing.
            """)

    @OptionGroup public var global: GlobalOptions

    @Argument(help: ArgumentHelp("The functions to assign, as lspci -s takes them.", valueName: "SELECTOR"))
    public var selectors: [String]

    @Flag(name: .long, help: "Machine-readable JSON.")
    public var json = false

    @Flag(name: [.customShort("q"), .long], help: "Quiet: print only the lines that are not PASS (nothing when ready); the exit status carries the verdict.")
    public var quiet = false

    @Flag(name: .customLong("fix-script"), help: "Print the unit's fixes as a shell script (sysfs writes and commands, in order); a blocked or undetermined unit's script only says why and exits with its status.")
    public var fixScript = false

    public init() {}

    public func validate() throws {
        if quiet && json { throw ValidationError("--quiet and --json exclude each other") }
        if fixScript && (json || quiet) { throw ValidationError("--fix-script excludes --json and --quiet") }
        guard !selectors.isEmpty else { throw ValidationError("name the functions to check (e.g. 01:00.0)") }
        try validateSelectors(selectors)
    }

    public func run() throws {
        let model = try global.loadHost(options: ScanOptions(decodeCapabilities: true, resolveVFIOVariants: true))
        let chosen = try selectedFunctions(selectors, in: model)
        let result = Reporter.check(model, selected: chosen)
        printHostDiagnostics(model)
        let status = CheckLines.exitStatus(result.verdict)
        if fixScript {
            printText(FixScript.render(result, source: model.source.description))
            return
        } else if json {
            let described = DescribedCheck(result, model)
            try JSONOutput.write(described)
        } else {
            printText(ReportText.renderCheck(model, result, style: global.style, quiet: quiet), colour: global.style.color)
        }
        if status != 0 { throw ExitCode(status) }
    }
}
