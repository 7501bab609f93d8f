import ArgumentParser
import PCIHost
import VFIOAnalysis
import VFIOReport

public struct GroupsCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "groups",
        abstract: "IOMMU groups with their members and, for shared groups, why the kernel could not split them.")

    @OptionGroup public var global: GlobalOptions

    @Flag(name: .long, help: "Machine-readable JSON: groups with `why`, predictedGroups, groupPredictionMatches.")
    public var json = false

    public init() {}

    public func run() throws {
        let model = try global.loadHost(options: ScanOptions(decodeCapabilities: true))
        printHostDiagnostics(model)
        let analysis = GroupAnalysis(model, GroupPredictor.predict(model))
        if json {
            print(try JSONOutput.render(DescribedGroupsListing(model, analysis)), terminator: "")
        } else {
            print(GroupsText.render(model, analysis), terminator: "")
        }
    }
}
