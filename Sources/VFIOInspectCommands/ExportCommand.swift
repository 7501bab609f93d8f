import ArgumentParser
import Foundation
import PCIHost
import VFIOAnalysis
import VFIOFleet
import VFIOReport

/// The fleet formats `export` writes.
public enum ExportFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case nfd, prometheus
    case ansibleFact = "ansible-fact"
    case dra

    /// The file name used when `--output` is a directory: what each consumer looks for.
    var fileName: String {
        switch self {
        case .nfd: "vfio-inspect"
        case .prometheus: "vfio_inspect.prom"
        case .ansibleFact: "vfio_inspect.fact"
        case .dra: "vfio-inspect-resourceslice.json"
        }
    }
}

public struct ExportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Writes the host's passthrough readiness in a fleet engine's own format: nfd, prometheus, ansible-fact or dra.",
        discussion: """
            nfd: a Node Feature Discovery local feature file (put it in features.d/): labels under \
            vfio.feature.node.kubernetes.io/ (iommu, interrupt-remapping, groups-<verdict>, sriov-*, \
            assignable-<vendor>-<device>), an expiry directive (--expiry), under NFD's 64 KiB limit. \
            prometheus: a node_exporter textfile-collector file (*.prom) whose per-function series carry the pcidevice \
            collector's labels (segment, bus, device, function); --baseline adds drift gauges. \
            ansible-fact: JSON for /etc/ansible/facts.d/vfio_inspect.fact; printed to standard output it always exits 0 (an \
            executable fact that fails breaks fact gathering), with ok=false and error when the host cannot be read. \
            dra: a v1 List of resource.k8s.io/v1 ResourceSlices (≤ 128 devices each, one pool named after the node) \
            whose devices carry resource.kubernetes.io/pciBusID, pcieRoot, numaNode, and iommuGroup, iommuGroupKnown, \
            isVF, pfPciBusID, verdict, vfioUnsafe; an attribute the input cannot give is left out.
            With --output, the file is written beside its final name as a dotfile and renamed into place, so a \
            consumer never reads half of it; a directory gets the name the consumer looks for (vfio-inspect, \
            vfio_inspect.prom, vfio_inspect.fact, vfio-inspect-resourceslice.json). Exit 0 when written; 3 when the \
            host cannot be read (nothing is written, except ansible-fact) or the file cannot be written; a --baseline that cannot be read is \
            reported in the file (vfio_inspect_drift_baseline_readable 0) and on stderr.
            """)

    @OptionGroup public var global: GlobalOptions

    @Option(name: .long, help: ArgumentHelp("nfd, prometheus, ansible-fact or dra.", valueName: "FORMAT"))
    public var format: ExportFormat

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Write to FILE (or into DIR under the consumer's file name), atomically; standard output without it.", valueName: "FILE|DIR"), completion: .file())
    public var output: String?

    @Option(name: .long, help: ArgumentHelp("prometheus: compare with this snapshot, dump or saved report --json and add drift gauges.", valueName: "BASELINE"), completion: .file())
    public var baseline: String?

    @Option(name: .long, help: ArgumentHelp("nfd: how long NFD keeps the labels if no newer file replaces them: 90s, 30m, 2h or 1d (at least a minute).", valueName: "DURATION"))
    public var expiry: String = "2h"

    @Option(name: .customLong("node-name"), help: ArgumentHelp("dra: the node's name (default: the host name in the input's proc/sys/kernel/hostname).", valueName: "NAME"))
    public var nodeName: String?

    @Option(name: .long, help: ArgumentHelp("dra: the driver (a DNS subdomain) whose domain the unqualified attributes take.", valueName: "NAME"))
    public var driver: String = "vfio-inspect.local"

    public init() {}

    public func validate() throws {
        if baseline != nil && format != .prometheus { throw ValidationError("--baseline goes with --format prometheus") }
        if parseDuration(expiry) == nil { throw ValidationError("--expiry takes a duration of at least a minute such as 90s, 30m, 2h or 1d, not '\(expiry)'") }
        if !isDNSSubdomain(driver) { throw ValidationError("--driver must be a DNS subdomain (lower-case letters, digits, '-' and '.'), not '\(driver)'") }
        if let nodeName, !isDNSSubdomain(nodeName) || nodeName.utf8.count > 230 {
            throw ValidationError("--node-name must be a DNS subdomain of at most 230 characters (the slices are named <node>-vfio-inspect-N), not '\(nodeName)'")
        }
    }

    public func run() throws {
        let model: HostModel
        do {
            model = try global.loadHost(options: ScanOptions(decodeCapabilities: true, resolveVFIOVariants: true))
        } catch let exit as ExitCode where format == .ansibleFact {
            // An executable fact that fails breaks `setup`: say it inside, exit 0. Written to a file (a timer), the fact
            // still says so, and the exit status tells the timer.
            try write(JSONOutput.render(AnsibleFact(error: "the host could not be read (exit status \(exit.rawValue)); see stderr")))
            if output != nil { throw exit }
            return
        }
        printHostDiagnostics(model)
        let report = Reporter.report(model)
        let facts = FleetFacts(model, report)
        let text: String
        switch format {
        case .nfd:
            let seconds = parseDuration(expiry) ?? 7200
            let file = NFDFeatureFile(facts, expiry: Date().addingTimeInterval(seconds))
            for name in file.skipped { printError("note: NFD label \(name) left out (label rules or the 64 KiB limit)") }
            text = file.text
        case .prometheus:
            var drift: PrometheusTextfile.Baseline?
            if let baseline {
                do {
                    let before = try loadState(baseline, pciIDs: global.pciIDs)
                    drift = .compared(Drift.compare(baseline: before, current: try PassthroughState(model, report)))
                } catch {
                    printError("vfio-inspect: the baseline \(baseline) could not be read: \(error)")
                    drift = .unreadable
                }
            }
            text = PrometheusTextfile.render(facts, baseline: drift)
        case .ansibleFact:
            text = try JSONOutput.render(AnsibleFact(facts, source: model.source.description))
        case .dra:
            text = try JSONOutput.render(DRAResourceSliceList(facts, driver: driver, nodeName: try requiredNodeName(nodeName, model)))
        }
        try write(text)
    }

    func write(_ text: String) throws {
        guard let output else {
            print(text, terminator: "")
            return
        }
        var isDirectory: ObjCBool = false
        let path = FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory) && isDirectory.boolValue
            ? (output as NSString).appendingPathComponent(format.fileName) : output
        let parent = (path as NSString).deletingLastPathComponent
        var parentIsDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: parent.isEmpty ? "." : parent, isDirectory: &parentIsDirectory), parentIsDirectory.boolValue else {
            printError("vfio-inspect: cannot write \(path): the directory \(parent) does not exist")
            throw ExitCode(ExitStatus.inputUnusable)
        }
        if format == .prometheus && !path.hasSuffix(".prom") {
            printError("warning: node_exporter's textfile collector reads only *.prom files; \(path) will not be read")
        }
        do {
            try AtomicFile.write(text, to: path)
        } catch {
            printError("vfio-inspect: \(error)")
            throw ExitCode(ExitStatus.inputUnusable)
        }
    }
}

/// Writes a file so that a reader sees the old content or the new, never part of one: the text goes to a dotfile
/// beside the target (NFD and the textfile collector skip dotfiles and names not ending `.prom`), is flushed with
/// `fsync`, then renamed over the target (`rename(2)` is atomic within a file system).
enum AtomicFile {
    struct WriteError: Error, CustomStringConvertible {
        let description: String
    }

    static func write(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporary = (directory as NSString).appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw WriteError(description: "cannot write \(temporary): \(String(cString: strerror(errno)))")
        }
        let bytes = Array(text.utf8)
        var written = 0
        var failure: Int32 = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                failure = errno
                break
            }
            written += n
        }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        close(fd)
        guard failure == 0 else {
            unlink(temporary)
            throw WriteError(description: "cannot write \(temporary): \(String(cString: strerror(failure)))")
        }
        guard rename(temporary, path) == 0 else {
            let e = errno
            unlink(temporary)
            throw WriteError(description: "cannot rename \(temporary) to \(path): \(String(cString: strerror(e)))")
        }
    }
}

/// Seconds in `90s`, `30m`, `2h`, `1d` (a bare number is seconds; decimal digits only); `nil` for anything else, and
/// for less than a minute, which would expire before NFD's worker reads the file again (its default sleep is 60 s).
func parseDuration(_ text: String) -> TimeInterval? {
    let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
    var digits = Substring(text), factor = 1.0
    if let last = text.last, let f = units[last] {
        digits = text.dropLast()
        factor = f
    }
    guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Double(digits) else { return nil }
    let seconds = n * factor
    return seconds >= 60 && seconds < 1e9 ? seconds : nil
}

/// The node's name: `given` (`--node-name`), else the input's host name lower-cased when it is a DNS subdomain.
func resolvedNodeName(_ given: String?, _ model: HostModel) -> String? {
    given ?? model.environment.hostName.map { $0.lowercased() }.flatMap { isDNSSubdomain($0) ? $0 : nil }
}

/// `resolvedNodeName`, or a message saying why the input does not name the node and exit 64.
func requiredNodeName(_ given: String?, _ model: HostModel) throws -> String {
    if let name = resolvedNodeName(given, model) { return name }
    printError("vfio-inspect: the input does not name the node (\(model.environment.hostName.map { "its host name '\($0)' is not a DNS subdomain" } ?? "no proc/sys/kernel/hostname")); give --node-name")
    throw ExitCode(ExitStatus.usage)
}

/// RFC 1123 DNS subdomain: ≤ 253 characters, dot-separated labels of lower-case alphanumerics and '-', each starting
/// and ending alphanumeric (k8s.io/apimachinery `IsDNS1123Subdomain`).
func isDNSSubdomain(_ s: String) -> Bool {
    guard !s.isEmpty, s.utf8.count <= 253 else { return false }
    return s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
        let b = Array(label.utf8)
        func alnum(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) }
        guard let first = b.first, let last = b.last, b.count <= 63 else { return false }
        return alnum(first) && alnum(last) && b.allSatisfy { alnum($0) || $0 == 0x2d }
    }
}

