import Foundation
import PCIHost
import Testing
import TestSupport
import VFIOAnalysis
import VFIOReport

/// Damaged evidence is unknown, never absent: every entry the scan reads, replaced by every kind of damage,
/// on bases that hold a VM with a group open, a mounted disk, an interface that is up, the boot VGA with a
/// console, an SR-IOV PF with VFs, a firmware 1:1 region and groups on vfio-pci. For each damaged copy: no trap,
/// no hang, nothing read outside the root, no control character from the input in the text output, and
/// **no unit verdict and no check line better than on the intact base** (ready > needs-preparation >
/// blocked/undetermined; PASS > WARN > FAIL/UNKNOWN).
///
/// CI runs a fixed-seed sample of every base (`VFIO_INSPECT_SWEEP` cases each, 700 unless set) plus every
/// entry the issue names with every damage; `VFIO_INSPECT_SWEEP=all` runs the whole product.
@Suite("Damage sweep: no damage improves a verdict")
struct DamageSweepTests {
    enum Damage: String, CaseIterable, Sendable {
        case empty = "empty file"
        case directory = "directory"
        case fifo = "FIFO"
        case dangling = "dangling link"
        case loop = "link loop"
        case outside = "link out of the tree"
        case garbage = "garbage with control characters"
        case notANumber = "not a number"
        case negative = "negative number"
        case huge = "huge number"
        case gigabyte = "1 GiB file"
        case allOnes = "config: all ones"
        case allZeros = "config: all zeros"
        case short = "config: short"

        var configOnly: Bool { self == .allOnes || self == .allZeros || self == .short }
    }

    static let sentinel = "OUTSIDE-SENTINEL-7e1f"

    /// Writes `damage` at `path` (whatever was there is removed first). `outsideDepth` is how many `..` reach the
    /// directory that holds the root, where the `outside` tree lies.
    static func apply(_ damage: Damage, at path: String, outsideDepth: Int) throws {
        let fm = FileManager.default
        if (try? fm.destinationOfSymbolicLink(atPath: path)) != nil || fm.fileExists(atPath: path) { try fm.removeItem(atPath: path) }
        func write(_ bytes: [UInt8]) { fm.createFile(atPath: path, contents: Data(bytes)) }
        switch damage {
        case .empty: write([])
        case .directory: try fm.createDirectory(atPath: path, withIntermediateDirectories: false)
        case .fifo: guard mkfifo(path, 0o644) == 0 else { throw CocoaError(.fileWriteUnknown) }
        case .dangling: try fm.createSymbolicLink(atPath: path, withDestinationPath: "does-not-exist")
        case .loop: try fm.createSymbolicLink(atPath: path, withDestinationPath: (path as NSString).lastPathComponent)
        case .outside:
            try fm.createSymbolicLink(atPath: path, withDestinationPath: String(repeating: "../", count: outsideDepth) + "outside/1")
        case .garbage:
            // Printable lure text and terminal controls: a forged verdict line, ESC sequences, CR, C1 CSI.
            var rng = SplitMix64(state: UInt64(path.utf8.count))
            var bytes = Array("\n\u{1b}[2J\u{1b}[HIOMMU group 99: ready\r\u{9b}31m".utf8)
            bytes += (0..<2048).map { _ in UInt8.random(in: 0...255, using: &rng) }
            write(bytes)
        case .notANumber: write(Array("not-a-number\n".utf8))
        case .negative: write(Array("-1\n".utf8))
        case .huge: write(Array("99999999999999999999999\n".utf8))
        case .gigabyte:
            write([])
            guard truncate(path, 1 << 30) == 0 else { throw CocoaError(.fileWriteUnknown) }
        case .allOnes: write([UInt8](repeating: 0xff, count: 4096))
        case .allZeros: write([UInt8](repeating: 0, count: 4096))
        case .short: write([0x86, 0x80, 0x10])
        }
    }

    /// A base: a real snapshot with what the issue asks every base to have added (a process table with a VM holding
    /// a vfio-pci group open, swap known, a firmware 1:1 region on one group).
    struct Base {
        let name: String
        let root: String
        let outsideDepth: Int
    }

    static func makeBase(_ fixture: String, heldGroup: Int?, directGroup: Int?) throws -> Base {
        let scratch = try Fixtures.temporaryDirectory("sweep-\(fixture.split(separator: ":").last ?? "base")")
        let root = scratch + "/root"
        let fm = FileManager.default
        try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
        let source = fixture.hasPrefix("vfio:") ? Fixtures.vfio(String(fixture.dropFirst(5))) : Fixtures.sysfs(fixture)
        let copy = try Command.run("/bin/cp", ["-a", source + "/.", root])
        try #require(copy.status == 0, "cp: \(copy.stderr)")
        _ = try Command.run("/bin/chmod", ["-R", "u+w", root])
        // What a link out of the tree would reach: a file and a directory whose contents must never be read.
        try fm.createDirectory(atPath: scratch + "/outside/1", withIntermediateDirectories: true)
        try "\(sentinel) 0x8086\n".write(toFile: scratch + "/outside/1/config", atomically: false, encoding: .utf8)
        try "\(sentinel)\n".write(toFile: scratch + "/outside/sentinel", atomically: false, encoding: .utf8)
        try "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n".write(toFile: root + "/proc/swaps", atomically: false, encoding: .utf8)
        // A shell with an ordinary open file, and (where asked) a VM holding a group.
        try fm.createDirectory(atPath: root + "/proc/1/fd", withIntermediateDirectories: true)
        try "bash\n".write(toFile: root + "/proc/1/comm", atomically: false, encoding: .utf8)
        try fm.createSymbolicLink(atPath: root + "/proc/1/fd/0", withDestinationPath: "/dev/null")
        if let group = heldGroup {
            try fm.createDirectory(atPath: root + "/proc/4242/fd", withIntermediateDirectories: true)
            try "qemu-system-x86\n".write(toFile: root + "/proc/4242/comm", atomically: false, encoding: .utf8)
            try fm.createSymbolicLink(atPath: root + "/proc/4242/fd/3", withDestinationPath: "/dev/vfio/vfio")
            try fm.createSymbolicLink(atPath: root + "/proc/4242/fd/17", withDestinationPath: "/dev/vfio/\(group)")
        }
        if let group = directGroup {
            let path = root + "/sys/kernel/iommu_groups/\(group)/reserved_regions"
            try fm.removeItem(atPath: path)
            try "0x00000000fee00000 0x00000000feefffff msi\n0x000000007c000000 0x000000007fffffff direct\n".write(toFile: path, atomically: false, encoding: .utf8)
        }
        return Base(name: fixture, root: root, outsideDepth: root.split(separator: "/").count - scratch.split(separator: "/").count)
    }

    /// Every entry below sys/ and proc/ a scan can read (the contents of statistics, power and queue
    /// directories are never read, so damage there proves nothing).
    static func entries(_ root: String) -> [String] {
        let skip: Set<String> = ["power", "statistics", "queues", "msi_irqs", "queue", "mq", "integrity", "trace", "bdi"]
        var result: [String] = []
        for top in ["sys", "proc"] {
            guard let walker = FileManager.default.enumerator(atPath: root + "/" + top) else { continue }
            while let next = walker.nextObject() as? String {
                let parts = next.split(separator: "/").map(String.init)
                if parts.dropLast().contains(where: skip.contains) { continue }
                result.append(top + "/" + next)
            }
        }
        return result.sorted()
    }

    /// The entries the issue names: process fd entries and PID directories, mounts, swaps, cmdline, net
    /// flags/operstate, boot_vga, sriov_numvfs, reserved_regions, reset_method, config, driver and iommu_group
    /// links, group devices/ directories.
    static func named(_ all: [String]) -> [String] {
        let names: Set<String> = ["fd", "mounts", "swaps", "cmdline", "flags", "operstate", "boot_vga", "sriov_numvfs", "sriov_totalvfs",
                                  "reserved_regions", "reset_method", "config", "driver", "iommu_group", "devices", "physfn", "comm", "modules", "type"]
        return all.filter { e in
            let parts = e.split(separator: "/").map(String.init)
            if let last = parts.last, names.contains(last) { return true }
            if parts.count == 2, parts[0] == "proc", Int(parts[1]) != nil { return true }
            if parts.count == 4, parts[0] == "proc", parts[2] == "fd" { return true }
            if parts.count >= 3, parts[parts.count - 2].hasPrefix("virtfn") { return false }
            return parts.last?.hasPrefix("virtfn") == true
        }
    }

    /// What an admin acts on, by function: the verdict of the unit holding it, and each check line's result.
    struct Answer {
        var unit: [String: Int] = [:]
        var lines: [String: Int] = [:]
        var text = ""
    }

    static func rank(_ v: UnitVerdict) -> Int {
        switch v {
        case .ready: 3
        case .needsPreparation: 2
        case .blocked, .undetermined: 1
        }
    }

    static func rank(line result: String) -> Int {
        switch result {
        case "PASS": 3
        case "WARN": 2
        default: 1
        }
    }

    static func answer(_ model: HostModel) -> Answer {
        var a = Answer()
        let report = Reporter.report(model)
        for u in report.units {
            for m in u.members { a.unit[m.description] = min(a.unit[m.description] ?? 3, rank(u.verdict)) }
        }
        var text = ReportText.render(model, report, style: Style(color: false))
        text += ListText.render(model, functions: model.functions)
        for f in model.functions {
            let check = Reporter.check(model, selected: [f.address])
            for line in CheckLines.lines(check.findings) {
                a.lines["\(f.address) \(line.id)"] = rank(line: line.result)
            }
            text += ReportText.renderCheck(model, check, style: Style(color: false))
        }
        a.text = text + model.diagnostics.map(\.message).joined(separator: "\n") + model.functions.flatMap(\.diagnostics).map(\.message).joined(separator: "\n")
        return a
    }

    struct Tally {
        var cases = 0
        var improvements: [String] = []
        var slow: [String] = []
        var escapes: [String] = []
        var outside: [String] = []
    }

    static func sweep(_ base: Base, cases: [(String, Damage)]) throws -> Tally {
        let options = ScanOptions(decodeCapabilities: true)
        let intact = answer(try SysfsScanner(root: HostRoot(base.root), options: options).scan())
        var tally = Tally()
        for (entry, damage) in cases {
            let path = base.root + "/" + entry
            // An empty directory where a directory was is the removal of what it held, which a real tree also shows
            // (an fd table with nothing open, a device with no interfaces): undetectable, so not a case. The places
            // where the kernel never leaves a directory empty (a PID's, a group's devices/) have their own tests.
            var isDirectory: ObjCBool = false
            if damage == .directory, (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) == nil,
               FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { continue }
            let aside = base.root + "/.aside"
            guard rename(path, aside) == 0 else { continue }
            defer {
                if (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil || FileManager.default.fileExists(atPath: path) {
                    try? FileManager.default.removeItem(atPath: path)
                }
                rename(aside, path)
            }
            try apply(damage, at: path, outsideDepth: entry.split(separator: "/").count - 1 + base.outsideDepth)
            tally.cases += 1
            let label = "\(base.name): \(entry) as \(damage.rawValue)"
            let start = Date()
            guard let model = try? SysfsScanner(root: HostRoot(base.root), options: options).scan() else { continue }
            let damaged = answer(model)
            if Date().timeIntervalSince(start) > 5 { tally.slow.append(label) }
            for (f, r) in damaged.unit where r > (intact.unit[f] ?? 0) {
                tally.improvements.append("\(label): unit of \(f) \(intact.unit[f] ?? 0) -> \(r)")
            }
            for (l, r) in damaged.lines where r > (intact.lines[l] ?? 0) {
                tally.improvements.append("\(label): check line \(l) \(intact.lines[l] ?? 0) -> \(r)")
            }
            if damaged.text.unicodeScalars.contains(where: { $0 != "\n" && ($0.value < 0x20 || (0x7f...0x9f).contains($0.value)) }) {
                tally.escapes.append(label)
            }
            if damaged.text.contains(sentinel) { tally.outside.append(label) }
        }
        return tally
    }

    static let bases: [(fixture: String, held: Int?, direct: Int?)] = [
        ("host-in-use", nil, 9),   // mounted disk, interface up, boot VGA with console; a 1:1 region on the NVMe's group
        ("vfio-bound", 7, 11),     // groups 7 and 8 on vfio-pci, a VM holding group 7
        ("sriov", 7, nil),         // a PF with 3 VFs, VF 01:00.2 on vfio-pci held by a VM
        // iommufd and the device cdev (Linux 6.12 built with them), a ConnectX VF on mlx5_vfio_pci with debugfs
        // migration features, the module table's vfio_pci: aliases; the NIC's group 5 held by a VM.
        ("vfio:mlx5-variant-bound", 5, nil),
    ]

    @Test("every kind of damage on every entry: no verdict or check line improves, no trap, no hang, no escape, nothing read outside",
          arguments: bases.map(\.fixture))
    func sweep(_ fixture: String) throws {
        let spec = try #require(Self.bases.first { $0.fixture == fixture })
        let base = try Self.makeBase(spec.fixture, heldGroup: spec.held, directGroup: spec.direct)
        defer { try? FileManager.default.removeItem(atPath: (base.root as NSString).deletingLastPathComponent) }
        let all = Self.entries(base.root)
        func product(_ entries: [String]) -> [(String, Damage)] {
            entries.flatMap { e in
                Damage.allCases.filter { !$0.configOnly || e.hasSuffix("/config") }.map { (e, $0) }
            }
        }
        let setting = ProcessInfo.processInfo.environment["VFIO_INSPECT_SWEEP"] ?? ""
        var cases: [(String, Damage)]
        if setting == "all" {
            cases = product(all)
        } else {
            var rng = SplitMix64(state: 0x5EED_18 &+ UInt64(fixture.utf8.count))
            let named = Set(Self.named(all))
            var rest = product(all.filter { !named.contains($0) })
            rest.shuffle(using: &rng)
            cases = product(all.filter(named.contains)) + rest.prefix(Int(setting) ?? 700)
        }
        let tally = try Self.sweep(base, cases: cases)
        print("damage sweep \(fixture): \(all.count) entries × \(Damage.allCases.count) kinds; \(tally.cases) runs, improvements \(tally.improvements.count), hangs \(tally.slow.count), escapes \(tally.escapes.count), outside reads \(tally.outside.count)")
        if let log = ProcessInfo.processInfo.environment["VFIO_INSPECT_SWEEP_LOG"] {
            // The whole list, for working through a failing sweep.
            let text = (tally.improvements + tally.escapes.map { "escape: \($0)" } + tally.outside.map { "outside: \($0)" }).joined(separator: "\n") + "\n"
            try text.write(toFile: log + "." + fixture, atomically: false, encoding: .utf8)
        }
        #expect(tally.cases > 500)
        #expect(tally.improvements.isEmpty, "\(tally.improvements.count) improvements: \(tally.improvements.prefix(40).joined(separator: "\n"))")
        #expect(tally.slow.isEmpty, "over 5 s: \(tally.slow.prefix(10))")
        #expect(tally.escapes.isEmpty, "control characters reached the text: \(tally.escapes.prefix(10))")
        #expect(tally.outside.isEmpty, "read outside the root: \(tally.outside.prefix(10))")
    }
}
