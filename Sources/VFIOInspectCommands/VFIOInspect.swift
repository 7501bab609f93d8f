import ArgumentParser

public struct VFIOInspect: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "vfio-inspect",
        abstract: "Reads a Linux host's PCI functions, IOMMU groups and SR-IOV links, and says what can be passed through to a VM with VFIO.",
        discussion: """
            Every command reads only; nothing is ever written to /sys. Use --root DIR to read a snapshot \
            (made by `vfio-inspect snapshot`) exactly as the live host.
            Exit status: 0 success; check, plan, and report/groups with --exit-status: 0 ready, 1 needs \
            preparation or warnings, 2 blocked (plan: refused), 4 undetermined (something that decides is not in \
            the input); every command: 3 the input could not be read, 5 a selector or filter matched nothing, \
            64 usage error.
            """,
        version: "0.1.0",
        subcommands: [ListCommand.self, ShowCommand.self, ReportCommand.self, CheckCommand.self, GroupsCommand.self, TreeCommand.self, PlanCommand.self, SnapshotCommand.self, ExportCommand.self, SuggestCommand.self, DiffCommand.self])

    public init() {}
}
