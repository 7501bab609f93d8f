import ArgumentParser
import PCIHost
import VFIOAnalysis
import VFIOReport

public struct GroupsCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "groups",
        abstract: "IOMMU groups with their members and, for shared groups, why the kernel could not split them.")

    @OptionGroup public var global: GlobalOptions
    @OptionGroup public var selection: FunctionSelection

    @Option(name: .long, help: ArgumentHelp("Only groups whose unit has this verdict (as report gives it): ready, needs-preparation, blocked or undetermined.", valueName: "VERDICT"))
    public var verdict: UnitVerdict?

    @Flag(name: .customLong("exit-status"), help: "Exit as check does, with the worst verdict of the groups shown: 0 ready, 1 needs preparation, 2 blocked, 4 undetermined.")
    public var exitStatus = false

    @Flag(name: .long, help: "Machine-readable JSON: groups with `why`, predictedGroups, groupPredictionMatches.")
    public var json = false

    public init() {}

    public func run() throws {
        let needVerdicts = verdict != nil || exitStatus
        // Verdicts and selections take the report, which reads everything; the groups alone print each group's type
        // and what config space says about isolation.
        let facts: ScanFacts = needVerdicts || !selection.isEmpty ? .all : .groupListing
        let model = try global.loadHost(options: ScanOptions(decodeCapabilities: true, facts: facts))
        let chosen = try selection.chosen(in: model).map(Set.init)
        printHostDiagnostics(model)
        // The report (with its prediction) is made once, only when verdicts or a selection need it.
        let report = needVerdicts || chosen != nil ? Reporter.report(model) : nil
        let prediction = report?.prediction ?? GroupPredictor.predict(model)
        var analysis = GroupAnalysis(model, prediction)
        var shownVerdicts: [UnitVerdict] = []
        if chosen != nil || needVerdicts {
            let verdicts: [[PCIAddress]: UnitVerdict] = Dictionary((report?.units ?? []).map { ($0.members.sorted(), $0.verdict) }, uniquingKeysWith: { a, _ in a })
            func keep(_ members: [PCIAddress]) -> Bool {
                (chosen.map { c in members.contains(where: c.contains) } ?? true)
                    && (verdict.map { verdicts[members.sorted()] == $0 } ?? true)
            }
            let ids = Set(model.groups.filter { keep($0.members) }.map(\.id))
            let predicted = Set(prediction.groups.indices.filter { keep(prediction.groups[$0].members) })
            let outside = (report?.units ?? []).filter { $0.outsideGroups && keep($0.members) }
            analysis = analysis.restricted(toGroups: ids, predicted: predicted, ungrouped: Set(outside.flatMap(\.members).map(\.description)))
            let shownMembers = model.environment.groupSource.isKnown
                ? model.groups.filter { ids.contains($0.id) }.map(\.members)
                : predicted.map { prediction.groups[$0].members }
            shownVerdicts = shownMembers.compactMap { verdicts[$0.sorted()] } + outside.map(\.verdict)
        }
        if json {
            try JSONOutput.write(DescribedGroupsListing(model, analysis))
        } else {
            printText(GroupsText.render(model, analysis))
        }
        try requireVerdictMatched(verdict, matched: !shownVerdicts.isEmpty)
        if exitStatus {
            try gateStatus(shownVerdicts, filtered: !selection.isEmpty || verdict != nil)
        }
    }
}
