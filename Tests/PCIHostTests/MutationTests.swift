import Foundation
import PCIHost
import Testing
import TestSupport
import VFIOAnalysis
import VFIOReport

/// Every file and link of a real snapshot, replaced by every wrong type: the scan never traps, never
/// hangs, and never changes its answer silently (a changed report comes with a diagnostic naming the entry).
@Suite("Damaged trees (mutation)")
struct MutationTests {
    enum Mutation: String, CaseIterable {
        case regularFile = "empty regular file"
        case directory
        case fifo = "FIFO"
        case danglingLink = "dangling link"
        case selfLoop = "link to itself"
        case garbage = "1 MiB of garbage"
    }

    static func entries(_ root: String) -> [String] {
        let fm = FileManager.default
        var result: [String] = []
        for top in ["sys", "proc"] {
            guard let walker = fm.enumerator(atPath: root + "/" + top) else { continue }
            while let next = walker.nextObject() as? String {
                result.append(top + "/" + next)
            }
        }
        return result.sorted()
    }

    static func apply(_ mutation: Mutation, at path: String) throws {
        let fm = FileManager.default
        if (try? fm.destinationOfSymbolicLink(atPath: path)) != nil || fm.fileExists(atPath: path) { try fm.removeItem(atPath: path) }
        switch mutation {
        case .regularFile: fm.createFile(atPath: path, contents: Data())
        case .directory: try fm.createDirectory(atPath: path, withIntermediateDirectories: false)
        case .fifo: guard mkfifo(path, 0o644) == 0 else { throw CocoaError(.fileWriteUnknown) }
        case .danglingLink: try fm.createSymbolicLink(atPath: path, withDestinationPath: "does-not-exist")
        case .selfLoop: try fm.createSymbolicLink(atPath: path, withDestinationPath: (path as NSString).lastPathComponent)
        case .garbage:
            var rng = SplitMix64(state: 7)
            fm.createFile(atPath: path, contents: Data((0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &rng) }))
        }
    }

    /// What an admin acts on: host findings, units (members, verdict, findings), predicted groups; as text.
    static func answer(_ model: HostModel) throws -> String {
        let report = Reporter.report(model)
        func codes(_ fs: [Finding]) -> String { fs.map { "\($0.code.rawValue):\($0.severity.rawValue)" }.sorted().joined(separator: ",") }
        var lines = ["host " + codes(report.hostFindings.filter { $0.code != .predictionUncertain })]
        for u in report.units {
            lines.append("unit \(u.members.map(\.description)) \(u.verdict.rawValue) " + codes(u.findings))
        }
        for g in report.prediction.groups { lines.append("predicted \(g.members.map(\.description)) \(g.isCertain)") }
        return lines.joined(separator: "\n")
    }

    /// Whether a diagnostic names the damaged entry: a function's own diagnostics name it by its path below
    /// the function's directory; host diagnostics by a component of its path that is not generic.
    static func mentions(_ model: HostModel, _ entry: String) -> Bool {
        let generic: Set<String> = ["sys", "proc", "devices", "bus", "pci", "class", "kernel", "virtual"]
        for f in model.functions {
            guard let dir = f.sysfsPath, entry.hasPrefix(dir + "/") else { continue }
            let below = entry.dropFirst(dir.count + 1).split(separator: "/").map(String.init)
            if f.diagnostics.contains(where: { d in below.contains { d.message.contains($0) } }) { return true }
        }
        let parts = entry.split(separator: "/").map(String.init).filter { !generic.contains($0) && !$0.hasPrefix("pci0000") }
        let all = model.diagnostics + model.functions.flatMap(\.diagnostics)
        return all.contains { d in d.message.contains(entry) || parts.contains { d.message.contains($0) } }
    }

    @Test("every entry of a real snapshot, replaced by a wrong type: no trap, no hang, no silent change",
          arguments: ["sriov", "host-in-use"])
    func mutations(_ fixture: String) throws {
        let root = try Fixtures.scratchCopy(of: fixture)
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try Command.run("/bin/chmod", ["-R", "u+w", root])
        let options = ScanOptions(decodeCapabilities: true)
        let baselineModel = try SysfsScanner(root: HostRoot(root), options: options).scan()
        let baseline = try Self.answer(baselineModel)
        let all = Self.entries(root)
        var rng = SplitMix64(state: 0x5EED_0000 &+ UInt64(fixture.utf8.count))
        var cases: [(String, Mutation)] = []
        for entry in all { for m in Mutation.allCases { cases.append((entry, m)) } }
        cases.shuffle(using: &rng)
        let budget = Int(ProcessInfo.processInfo.environment["VFIO_INSPECT_MUTATIONS"] ?? "") ?? 250
        var silent: [String] = []
        var slow: [String] = []
        for (entry, mutation) in cases.prefix(budget) {
            let path = root + "/" + entry
            let aside = root + "/.aside"
            // Keep the original aside (rename keeps links and directories as they are) and put it back after.
            // An empty directory where a directory was is a valid tree of its own (a device with no interfaces).
            var isDirectory: ObjCBool = false
            let wasDirectory = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
                && (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) == nil
            guard rename(path, aside) == 0 else { continue }
            defer {
                try? FileManager.default.removeItem(atPath: path)
                rename(aside, path)
            }
            try Self.apply(mutation, at: path)
            let start = Date()
            let model: HostModel
            do {
                model = try SysfsScanner(root: HostRoot(root), options: options).scan()
            } catch {
                // A refusal of the whole input must say what is wrong with it.
                #expect(!error.description.isEmpty, "\(entry) as \(mutation.rawValue)")
                continue
            }
            let changed = try Self.answer(model) != baseline
            for f in model.functions where !f.isBridge {
                _ = Reporter.check(model, selected: [f.address])
            }
            if Date().timeIntervalSince(start) > 5 { slow.append("\(entry) as \(mutation.rawValue)") }
            if changed && !(wasDirectory && mutation == .directory) && !Self.mentions(model, entry) { silent.append("\(entry) as \(mutation.rawValue)") }
        }
        #expect(slow.isEmpty, "took over 5 s: \(slow)")
        #expect(silent.isEmpty, "the answer changed without a diagnostic naming the entry: \(silent.prefix(20))")
    }

    @Test("the case of the bug report: physfn and virtfn0 as files, sriov_numvfs a FIFO (cases/sriov-link-wrong-type)")
    func sriovLinkWrongType() throws {
        let root = try Fixtures.scratchCopy(of: "sriov")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let port = root + "/sys/devices/pci0000:00/0000:00:02.0"
        let fm = FileManager.default
        for (path, make) in [("0000:01:00.1/physfn", Mutation.regularFile), ("0000:01:00.0/virtfn0", .regularFile), ("0000:01:00.0/sriov_numvfs", .fifo)] {
            try Self.apply(make, at: port + "/" + path)
        }
        #expect(fm.fileExists(atPath: port + "/0000:01:00.0/sriov_numvfs"))
        for args in [["list"], ["report"], ["check", "01:00.1"], ["groups"], ["tree"], ["show", "01:00.0"], ["plan", "01:00.2"]] {
            let r = try Command.tool(args + ["--root", root])
            #expect(r.status != 134 && r.status < 64, "\(args): exit \(r.status) \(r.stderr)")
        }
        let model = try SysfsScanner(root: HostRoot(root), options: ScanOptions(decodeCapabilities: true)).scan()
        let vf = try #require(model.function(PCIAddress(bus: 1, device: 0, function: 1)))
        #expect(vf.diagnostics.contains { $0.message.contains("physfn") })
        let pf = try #require(model.function(PCIAddress(bus: 1, device: 0, function: 0)))
        #expect(pf.diagnostics.contains { $0.message.contains("sriov_numvfs") })
        #expect(pf.diagnostics.contains { $0.message.contains("virtfn0") })
        // The PF's VFs are still seen through the other links, and it is still refused as a PF with VFs enabled.
        #expect(Reporter.check(model, selected: [pf.address]).findings.contains { $0.code == .pfWithVFs })
    }
}
