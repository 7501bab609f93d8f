import ArgumentParser
import Foundation
import PCIHost
import VFIOAnalysis
import VFIOFleet
import VFIOReport

public struct DiffCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "What changed for passthrough between two states of a host: groups split or merged, functions, IDs, drivers, ACS, verdicts, kernel.",
        discussion: """
            BASELINE and CURRENT are each a snapshot directory (vfio-inspect snapshot), an lspci hex dump, or a saved \
            `vfio-inspect report --json`; CURRENT defaults to this host (/). Each is compared through the report's \
            JSON contract, so a saved report and a live host compare field for field. Lines: '!' matters for \
            passthrough, '?' could not be compared (one side lacks the fact), '·' context (kernel, command line).
            Exit 0 nothing that matters changed; 1 something did; 4 nothing known changed but something could not be \
            compared (a fact one input lacks; a unit undetermined on both sides); 3 an input could not be read; 64 usage error.
            """)

    @Argument(help: ArgumentHelp("The state to compare against: a snapshot directory, a dump, or a saved report --json.", valueName: "BASELINE"))
    public var baseline: String

    @Argument(help: ArgumentHelp("The state now (default: this host).", valueName: "CURRENT"))
    public var current: String = "/"

    @Option(name: .customLong("pci-ids"), help: ArgumentHelp("The pci.ids file to take names from (default: libpci's).", valueName: "FILE"), completion: .file())
    public var pciIDs: String?

    @Flag(name: .long, help: "Machine-readable JSON (Schemas/vfio-inspect-diff.schema.json).")
    public var json = false

    public init() {}

    public func run() throws {
        let before: PassthroughState, after: PassthroughState
        do {
            before = try loadState(baseline, pciIDs: pciIDs)
            after = try loadState(current, pciIDs: pciIDs)
        } catch {
            printError("vfio-inspect: \(error)")
            throw ExitCode(ExitStatus.inputUnusable)
        }
        let drift = Drift.compare(baseline: before, current: after)
        if json {
            try JSONOutput.write(DescribedDrift(drift, baseline: before, current: after))
        } else {
            printText(DriftText.render(drift, baseline: before, current: after))
        }
        if drift.exitStatus != 0 { throw ExitCode(drift.exitStatus) }
    }
}

/// Why an input to `diff` or `--baseline` could not be read.
struct StateInputError: Error, CustomStringConvertible {
    let description: String
}

/// Reads `path` as a host state: a directory is a sysfs root (a snapshot, or `/`), a file whose first non-blank
/// byte is `{` a saved `report --json`, any other file an lspci hex dump. Diagnostics of a scan go to stderr.
func loadState(_ path: String, pciIDs: String?) throws -> PassthroughState {
    var info = stat()
    guard stat(path, &info) == 0 else {
        throw StateInputError(description: "\(path) does not exist (\(String(cString: strerror(errno))))")
    }
    let kind = info.st_mode & S_IFMT
    // A FIFO or device would block or never end: a timer must not hang on a wrong path.
    guard kind == S_IFDIR || kind == S_IFREG else {
        throw StateInputError(description: "\(path) is neither a directory (a snapshot) nor a regular file (a dump or a saved report --json)")
    }
    let isDirectory = ObjCBool(kind == S_IFDIR)
    if !isDirectory.boolValue {
        // Only the head decides; a JSON report is then read to its end from the same descriptor.
        guard let handle = FileHandle(forReadingAtPath: path) else { throw StateInputError(description: "\(path) cannot be read") }
        defer { try? handle.close() }
        var head = (try? handle.read(upToCount: 4096)) ?? Data()
        if head.starts(with: [0xef, 0xbb, 0xbf]) { head = head.dropFirst(3) }
        if head.first(where: { ![0x20, 0x09, 0x0a, 0x0d].contains($0) }) == UInt8(ascii: "{") {
            guard let rest = try? handle.readToEnd() ?? Data() else { throw StateInputError(description: "\(path) cannot be read") }
            return try PassthroughState(reportJSON: Data(head) + rest, name: path)
        }
    }
    let model = try scanHost(root: isDirectory.boolValue ? path : "/", dump: isDirectory.boolValue ? nil : path,
                             names: loadNames(pciIDs), options: ScanOptions(decodeCapabilities: true))
    printHostDiagnostics(model)
    return try PassthroughState(model, Reporter.report(model))
}

public struct SuggestCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "suggest",
        abstract: "Advisory orchestrator config for the viable units, pinned by address: kubevirt, sriovdp, nova or proxmox.",
        discussion: """
            Only units whose verdict is ready or needs-preparation are named, each by its lead (lowest-addressed \
            endpoint); the others of its group are companions to bind to vfio-pci and never give to another guest. \
            The opening comments list what was left out and why, and each trap the orchestrator has that this host \
            walks into: KubeVirt counts one device per IOMMU group, the SR-IOV device plugin and Nova check no group, \
            Proxmox checks iommugroup= only for a mapping's first path. Nothing is applied. \
            kubevirt: a KubeVirt CR fragment (YAML); sriovdp: the plugin's ConfigMap with config.json; nova: a nova.conf \
            [pci] section; proxmox: /etc/pve/mapping/pci.cfg entries.
            """)

    @OptionGroup public var global: GlobalOptions
    @OptionGroup public var selection: FunctionSelection

    @Option(name: .customLong("for"), help: ArgumentHelp("kubevirt, sriovdp, nova or proxmox.", valueName: "TARGET"))
    public var target: Orchestrator

    @Option(name: .customLong("node-name"), help: ArgumentHelp("proxmox: the node's name (default: the input's host name).", valueName: "NAME"))
    public var nodeName: String?

    @Option(name: .customLong("resource-prefix"), help: ArgumentHelp("kubevirt, sriovdp: the resource name prefix (a DNS subdomain).", valueName: "PREFIX"))
    public var resourcePrefix: String = "vfio-inspect.local"

    public init() {}

    public func validate() throws {
        if !isDNSSubdomain(resourcePrefix) { throw ValidationError("--resource-prefix must be a DNS subdomain, not '\(resourcePrefix)'") }
        if let nodeName, !isDNSSubdomain(nodeName) { throw ValidationError("--node-name must be a DNS subdomain, not '\(nodeName)'") }
    }

    public func run() throws {
        let model = try global.loadHost(options: ScanOptions(decodeCapabilities: true))
        let chosen = try selection.chosen(in: model).map(Set.init)
        printHostDiagnostics(model)
        let report = Reporter.report(model)
        let facts = FleetFacts(model, report)
        let node = target == .proxmox ? try requiredNodeName(nodeName, model) : resolvedNodeName(nodeName, model)
        // The whole host's units: a trap (a selector that also matches a unit left out) is never hidden by -s/-d.
        let advice = OrchestratorAdvice(facts, for: target, selecting: chosen)
        print(try Suggestions.render(advice, facts: facts, nodeName: node ?? "", resourcePrefix: resourcePrefix), terminator: "")
    }
}

extension Orchestrator: ExpressibleByArgument {}
