import ArgumentParser
import PCIHost
import VFIOAnalysis
import VFIOReport

public struct ListCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "One line per PCI function: identity, driver, IOMMU group, multifunction and SR-IOV flags.")

    @OptionGroup public var global: GlobalOptions
    @OptionGroup public var selection: FunctionSelection

    @Option(name: .long, help: ArgumentHelp("Only functions whose unit (as report gives it) has this verdict: ready, needs-preparation, blocked or undetermined.", valueName: "VERDICT"))
    public var verdict: UnitVerdict?

    @Flag(name: .long, help: "Machine-readable JSON (schemaVersion 1).")
    public var json = false

    public init() {}

    public func run() throws {
        // Verdicts need the capabilities decoded and every fact the rules read; the JSON listing prints every sysfs
        // fact; the text reads only what its lines show (identity, driver, group, SR-IOV, VFIO devices).
        let model = try global.loadHost(options: ScanOptions(decodeCapabilities: verdict != nil,
                                                             facts: json || verdict != nil ? .all : .listing))
        var chosen = try selection.chosen(in: model).map(Set.init) ?? Set(model.functions.map(\.address))
        if let verdict {
            let inUnits = Reporter.report(model).units(holding: chosen, verdict: verdict).flatMap(\.members)
            chosen.formIntersection(inUnits)
        }
        // Everything chosen: the model's own array (no copy of every function).
        let functions = chosen.count == model.functions.count && model.functions.allSatisfy({ chosen.contains($0.address) }) ? model.functions : model.functions.filter { chosen.contains($0.address) }
        if json {
            try JSONOutput.write(DescribedListing(model, functions: functions))
        } else {
            printText(ListText.render(model, functions: functions))
            printHostDiagnostics(model)
        }
        try requireVerdictMatched(verdict, matched: !functions.isEmpty)
    }
}
