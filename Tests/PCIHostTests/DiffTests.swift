import Foundation
import Testing
import TestSupport

/// `vfio-inspect diff` (issue 13): fixture pairs that differ in known ways (one topology under two settings),
/// edited copies, saved reports, and inputs that cannot say.
@Suite("diff")
struct DiffTests {
    struct Change {
        let kind: String
        let matters: Bool
        let functions: [String]
    }

    static func diff(_ args: [String]) throws -> (status: Int32, changes: [Change], doc: [String: Any]) {
        let r = try Command.tool(["diff", "--json"] + args)
        let doc = try Command.json(r.stdout)
        let changes = ((doc["changes"] as? [[String: Any]]) ?? []).map {
            Change(kind: ($0["kind"] as? String) ?? "", matters: ($0["matters"] as? Bool) ?? false, functions: ($0["functions"] as? [String]) ?? [])
        }
        #expect(doc["exitStatus"] as? Int == Int(r.status))
        return (r.status, changes, doc)
    }

    /// `report --json`'s functions of an input, by address.
    static func functions(_ root: String) throws -> [String: [String: Any]] {
        let doc = try Command.json(try Command.tool(["report", "--json", "--root", root]).stdout)
        var byAddress: [String: [String: Any]] = [:]
        for f in (doc["functions"] as? [[String: Any]]) ?? [] { byAddress[(f["address"] as? String) ?? ""] = f }
        return byAddress
    }

    @Test("a state against itself, and a saved report against the tree it came from: nothing changed (exit 0), except that a unit undetermined on both sides is not comparable (exit 4)",
          arguments: Fixtures.sysfsNames)
    func identity(_ fixture: String) throws {
        let root = Fixtures.sysfs(fixture)
        let report = try Command.json(try Command.tool(["report", "--json", "--root", root]).stdout)
        let undetermined = Set(((report["groups"] as? [[String: Any]]) ?? []).filter { $0["verdict"] as? String == "undetermined" }
            .flatMap { ($0["members"] as? [String]) ?? [] })
        let expected: Int32 = undetermined.isEmpty ? 0 : 4
        let same = try Self.diff([root, root])
        #expect(same.status == expected)
        #expect(same.changes.allSatisfy { $0.kind == "not-comparable" })
        #expect(Set(same.changes.flatMap(\.functions)) == undetermined)
        let dir = try Fixtures.temporaryDirectory("saved")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let saved = dir + "/report.json"
        try Command.tool(["report", "--json", "--root", root]).stdout.write(toFile: saved, atomically: true, encoding: .utf8)
        for pair in [[saved, root], [root, saved], [saved, saved]] {
            let d = try Self.diff(pair)
            #expect(d.status == expected, "\(pair): \(d.changes.map(\.kind))")
            #expect(Set(d.changes.flatMap(\.functions)) == undetermined)
        }
    }

    @Test("rp-acs → no-iommu (intel_iommu=on dropped): groups gone, every ACS Control change the two reports show, verdicts to blocked")
    func iommuTurnedOff() throws {
        let before = Fixtures.sysfs("rp-acs"), after = Fixtures.sysfs("no-iommu")
        let d = try Self.diff([before, after])
        #expect(d.status == 1)
        #expect(d.changes.contains { $0.kind == "groups-gone" && $0.matters })
        #expect(d.changes.contains { $0.kind == "command-line-changed" && !$0.matters })
        let a = try Self.functions(before), b = try Self.functions(after)
        let acsChanged = Set(a.keys.filter { k in (a[k]?["acsControl"] as? String) != (b[k]?["acsControl"] as? String) })
        #expect(!acsChanged.isEmpty)
        #expect(Set(d.changes.filter { $0.kind == "acs-changed" }.flatMap(\.functions)) == acsChanged)
        #expect(d.changes.contains { $0.kind == "verdict-changed" })
        // The other way round the groups appear.
        let back = try Self.diff([after, before])
        #expect(back.changes.contains { $0.kind == "groups-appeared" })
    }

    @Test("rp-acs → vfio-bound (two devices moved to vfio-pci): exactly the driver changes the reports show")
    func driversRebound() throws {
        let before = Fixtures.sysfs("rp-acs"), after = Fixtures.sysfs("vfio-bound")
        let d = try Self.diff([before, after])
        let a = try Self.functions(before), b = try Self.functions(after)
        let rebound = Set(a.keys.filter { k in (a[k]?["driver"] as? String) != (b[k]?["driver"] as? String) })
        #expect(!rebound.isEmpty)
        #expect(Set(d.changes.filter { $0.kind == "driver-changed" }.flatMap(\.functions)) == rebound)
        #expect(d.status == 1)
    }

    @Test("multifunction → sriov (a 4-function device replaced by a PF with 3 VFs): one group split into four, IDs changed")
    func groupSplit() throws {
        let d = try Self.diff([Fixtures.sysfs("multifunction"), Fixtures.sysfs("sriov")])
        let split = d.changes.filter { $0.kind == "group-split" }
        #expect(split.count == 1)
        #expect(split.first?.functions == ["0000:01:00.0", "0000:01:00.1", "0000:01:00.2", "0000:01:00.3"])
        #expect(d.changes.contains { $0.kind == "ids-changed" })
        let back = try Self.diff([Fixtures.sysfs("sriov"), Fixtures.sysfs("multifunction")])
        #expect(back.changes.filter { $0.kind == "group-merged" }.count == 1)
    }

    @Test("edited copies: a device gone, a driver link changed, two groups merged, group numbers swapped")
    func editedCopies() throws {
        let base = Fixtures.sysfs("rp-acs")
        // 05:00.0 unplugged.
        let gone = try Fixtures.scratchCopy(of: "rp-acs")
        defer { try? FileManager.default.removeItem(atPath: gone) }
        try FileManager.default.removeItem(atPath: gone + "/sys/bus/pci/devices/0000:05:00.0")
        try FileManager.default.removeItem(atPath: gone + "/sys/devices/pci0000:00/0000:00:03.0/0000:05:00.0")
        try FileManager.default.removeItem(atPath: gone + "/sys/kernel/iommu_groups/11")
        let d1 = try Self.diff([base, gone])
        #expect(d1.changes.map(\.kind).contains("function-removed"))
        #expect(d1.changes.first { $0.kind == "function-removed" }?.functions == ["0000:05:00.0"])
        #expect(!d1.changes.contains { $0.kind.hasPrefix("group-") }, "a removed function is not a regrouping: \(d1.changes.map(\.kind))")
        #expect(d1.status == 1)
        #expect(try Self.diff([gone, base]).changes.contains { $0.kind == "function-added" })

        // 04:00.0 joins 03:00.0's group 9 (as a kernel whose ACS quirk went missing would put it).
        let merged = try Fixtures.scratchCopy(of: "rp-acs")
        defer { try? FileManager.default.removeItem(atPath: merged) }
        let dev = merged + "/sys/devices/pci0000:00/0000:00:02.3/0000:04:00.0"
        try Fixtures.replace(dev + "/iommu_group", withLinkTo: "../../../../kernel/iommu_groups/9")
        try FileManager.default.moveItem(atPath: merged + "/sys/kernel/iommu_groups/10/devices/0000:04:00.0",
                                         toPath: merged + "/sys/kernel/iommu_groups/9/devices/0000:04:00.0")
        try FileManager.default.removeItem(atPath: merged + "/sys/kernel/iommu_groups/10")
        let d2 = try Self.diff([base, merged])
        let merge = d2.changes.filter { $0.kind == "group-merged" }
        #expect(merge.count == 1)
        #expect(merge.first?.functions == ["0000:03:00.0", "0000:04:00.0"])
        #expect(d2.status == 1)

        // Groups 9 and 10 swap numbers with the same members: renumbered twice (Proxmox's iommugroup= goes stale).
        let swapped = try Fixtures.scratchCopy(of: "rp-acs")
        defer { try? FileManager.default.removeItem(atPath: swapped) }
        let groups = swapped + "/sys/kernel/iommu_groups"
        try FileManager.default.moveItem(atPath: groups + "/9", toPath: groups + "/tmp")
        try FileManager.default.moveItem(atPath: groups + "/10", toPath: groups + "/9")
        try FileManager.default.moveItem(atPath: groups + "/tmp", toPath: groups + "/10")
        try Fixtures.replace(swapped + "/sys/devices/pci0000:00/0000:00:02.2/0000:03:00.0/iommu_group", withLinkTo: "../../../../kernel/iommu_groups/10")
        try Fixtures.replace(swapped + "/sys/devices/pci0000:00/0000:00:02.3/0000:04:00.0/iommu_group", withLinkTo: "../../../../kernel/iommu_groups/9")
        let d3 = try Self.diff([base, swapped])
        #expect(d3.changes.filter { $0.kind == "group-renumbered" }.count == 2)
        #expect(!d3.changes.contains { $0.kind == "group-regrouped" || $0.kind == "group-split" || $0.kind == "group-merged" })
        #expect(d3.status == 1)

        // The driver of 01:00.0 unbound.
        let unbound = try Fixtures.scratchCopy(of: "rp-acs")
        defer { try? FileManager.default.removeItem(atPath: unbound) }
        try FileManager.default.removeItem(atPath: unbound + "/sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0/driver")
        let d4 = try Self.diff([base, unbound])
        #expect(d4.changes.contains { $0.kind == "driver-changed" && $0.functions == ["0000:01:00.0"] })
    }

    @Test("inputs that cannot say: a dump without driver or group lines against itself is undetermined (4), never 'unchanged'")
    func undetermined() throws {
        let dump = Fixtures.realdata("jailhouse-config-collect/lenovo-thinkcentre-90g0-i5-7500.sysfs-config.lspci-xxxx.txt")
        let d = try Self.diff([dump, dump])
        #expect(d.status == 4)
        #expect(d.changes.allSatisfy { $0.kind == "not-comparable" })
        #expect(d.changes.contains { $0.kind == "not-comparable" && $0.matters })
        // A 256-byte dump cannot say whether ACS changed either: unknown on both sides is not "the same".
        let short = Fixtures.realdata("linux-pci-mailing-list/arm-neoverse-n1sdp.lspci-vvxxx.txt")
        let s = try Self.diff([short, short])
        #expect(s.status == 4)
        #expect(s.changes.contains { $0.kind == "not-comparable" && $0.matters })
        // A dump with the machine's own driver and group lines and 4096 bytes each: every function's facts and every
        // group compare; only verdicts that are undetermined on both sides (no dump holds interrupt remapping) do not.
        let full = Fixtures.realdata("nvidia-bug-report-lspci/hp-omen-obelisk-875-0xxx.lspci-nnDvvvxxxx.txt")
        let f = try Self.diff([full, full])
        #expect(f.status == 4, "\(f.changes.map(\.kind))")
        let sides = ((f.doc["changes"] as? [[String: Any]]) ?? []).map { [$0["before"] as? String, $0["after"] as? String] }
        #expect(!sides.isEmpty && sides.allSatisfy { $0 == ["undetermined", "undetermined"] }, "\(sides)")
        // One whose group lines leave out two functions (00:00.0 among them) cannot say whether their groups changed.
        let partial = Fixtures.realdata("nvidia-bug-report-lspci/msi-b550m-pro-vdh-wifi.lspci-nnDvvvxxxx.txt")
        let p = try Self.diff([partial, partial])
        #expect(p.status == 4, "\(p.changes.map(\.kind))")
        #expect(p.changes.allSatisfy { $0.kind == "not-comparable" })
    }

    @Test("groups one input does not hold are unknown, not gone: a dump without its group lines compares as undetermined")
    func groupsUnknownAreNotGone() throws {
        let full = Fixtures.realdata("nvidia-bug-report-lspci/msi-b550m-pro-vdh-wifi.lspci-nnDvvvxxxx.txt")
        let dir = try Fixtures.temporaryDirectory("nogroups")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = try String(contentsOfFile: full, encoding: .utf8)
        let stripped = dir + "/no-groups.txt"
        try text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.contains("IOMMU group") }
            .joined(separator: "\n").write(toFile: stripped, atomically: true, encoding: .utf8)
        let same = try Self.diff([stripped, stripped])
        #expect(same.status == 4, "\(same.changes.map(\.kind))")
        let against = try Self.diff([full, stripped])
        #expect(against.status == 4, "\(against.changes.map(\.kind))")
        #expect(!against.changes.contains { $0.kind == "groups-gone" || $0.kind.hasPrefix("group-") })
    }

    @Test("a saved report without acsControl or driver keys (an older release, an edited file) is unknown there, never 'no capability'")
    func missingKeysAreUnknown() throws {
        let root = Fixtures.sysfs("rp-acs")
        let dir = try Fixtures.temporaryDirectory("oldreport")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var doc = try Command.json(try Command.tool(["report", "--json", "--root", root]).stdout)
        doc["functions"] = ((doc["functions"] as? [[String: Any]]) ?? []).map { f in
            var f = f
            f.removeValue(forKey: "acsControl")
            f.removeValue(forKey: "driver")
            return f
        }
        let path = dir + "/old.json"
        try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: path))
        let d = try Self.diff([path, root])
        #expect(d.status == 4, "\(d.changes.map(\.kind))")
        #expect(!d.changes.contains { $0.kind == "acs-changed" || $0.kind == "driver-changed" })
        doc["schemaVersion"] = 2
        try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: path))
        let v2 = try Command.tool(["diff", path, root])
        #expect(v2.status == 3)
        #expect(v2.stderr.contains("schema version 2"))
    }

    @Test("a report saved with -s (only the chosen groups) and a dump missing one group line: unknown there, never 'nothing changed'")
    func partialBaselines() throws {
        let root = Fixtures.sysfs("multifunction")
        let dir = try Fixtures.temporaryDirectory("partial")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Command.tool(["report", "--json", "--root", root, "-s", "02:00.0"]).stdout.write(toFile: dir + "/sel.json", atomically: true, encoding: .utf8)
        let d = try Self.diff([dir + "/sel.json", Fixtures.sysfs("sriov")])
        #expect(d.changes.contains { $0.kind == "not-comparable" && $0.functions.contains("0000:01:00.1") })
        #expect(d.status == 1, "the IDs still changed")
        let same = try Self.diff([dir + "/sel.json", root])
        #expect(same.status == 4, "\(same.changes.map(\.kind))")
        let reverse = try Self.diff([root, dir + "/sel.json"])
        #expect(reverse.status == 4, "the filtered report as CURRENT: \(reverse.changes.map(\.kind))")
        #expect(!reverse.changes.contains { $0.kind.hasPrefix("group-") })

        // Half a subsystem pair in a saved report is not a changed subsystem.
        var doc = try Command.json(try Command.tool(["report", "--json", "--root", root]).stdout)
        doc["functions"] = ((doc["functions"] as? [[String: Any]]) ?? []).map { f in
            var f = f
            f.removeValue(forKey: "subsystemDeviceID")
            return f
        }
        try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: dir + "/half.json"))
        let half = try Self.diff([dir + "/half.json", root])
        #expect(half.status == 4)
        #expect(!half.changes.contains { $0.kind == "subsystem-changed" })

        let full = Fixtures.realdata("nvidia-bug-report-lspci/hp-omen-obelisk-875-0xxx.lspci-nnDvvvxxxx.txt")
        let lines = try String(contentsOfFile: full, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let first = try #require(lines.firstIndex { $0.contains("IOMMU group") })
        var dropped = lines
        dropped.remove(at: first)
        try dropped.joined(separator: "\n").write(toFile: dir + "/one-less.txt", atomically: true, encoding: .utf8)
        for pair in [[dir + "/one-less.txt", full], [full, dir + "/one-less.txt"]] {
            let r = try Self.diff(pair)
            #expect(r.status == 4, "\(r.changes.map(\.kind))")
            #expect(!r.changes.contains { $0.kind.hasPrefix("group-") })
        }
    }

    @Test("a dump that contradicts itself (a function pasted twice with other group and driver lines, an empty driver line): unknown, never a definite change")
    func contradictoryDump() throws {
        let dir = try Fixtures.temporaryDirectory("contra")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let dump = try FleetTests.lspciDump(of: "sriov", into: dir)
        let text = try String(contentsOfFile: dump, encoding: .utf8)
        let blocks = text.components(separatedBy: "\n\n")
        let pf = try #require(blocks.first { $0.hasPrefix("0000:01:00.0") })
        let group = try #require(pf.split(separator: "\n").first { $0.contains("IOMMU group:") })
        let twice = text + "\n" + pf.replacingOccurrences(of: String(group), with: "\tIOMMU group: 9") + "\n"
        try twice.write(toFile: dir + "/twice.txt", atomically: true, encoding: .utf8)
        let d = try Self.diff([dump, dir + "/twice.txt"])
        #expect(d.status == 4, "\(d.changes.map(\.kind))")
        #expect(!d.changes.contains { $0.kind == "group-renumbered" || $0.kind.hasPrefix("group-") })

        let emptied = text.replacingOccurrences(of: "Kernel driver in use: nvme", with: "Kernel driver in use:")
        try emptied.write(toFile: dir + "/empty-driver.txt", atomically: true, encoding: .utf8)
        let e = try Self.diff([dump, dir + "/empty-driver.txt"])
        #expect(!e.changes.contains { $0.kind == "driver-changed" }, "\(e.changes.map(\.kind))")
        #expect(e.status == 4)
    }

    @Test("a snapshot against its own lspci dump: facts the dump lacks (interrupt remapping) make verdicts not comparable, not changed")
    func snapshotAgainstDump() throws {
        let dir = try Fixtures.temporaryDirectory("vsdump")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let dump = try FleetTests.lspciDump(of: "multifunction", into: dir)
        let d = try Self.diff([Fixtures.sysfs("multifunction"), dump])
        #expect(d.status == 4, "\(d.changes.filter(\.matters).map(\.kind))")
        #expect(!d.changes.contains { $0.kind == "verdict-changed" })
    }

    @Test("a FIFO as BASELINE is refused at once, never waited on")
    func fifoRefused() throws {
        let dir = try Fixtures.temporaryDirectory("fifo")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(mkfifo(dir + "/pipe", 0o600) == 0)
        let r = try Command.tool(["diff", dir + "/pipe", Fixtures.sysfs("sriov")])
        #expect(r.status == 3)
        #expect(r.stderr.contains("neither a directory"))
        let p = try Command.tool(["export", "--format", "prometheus", "--root", Fixtures.sysfs("sriov"), "--baseline", dir + "/pipe"])
        #expect(p.status == 0)
        #expect(p.stdout.contains("vfio_inspect_drift_baseline_readable 0.0"))
    }

    @Test("bad inputs: a missing path and a list --json are exit 3 with a message; JSON output matches its schema")
    func badInputs() throws {
        let root = Fixtures.sysfs("sriov")
        let missing = try Command.tool(["diff", "/nonexistent/baseline", root])
        #expect(missing.status == 3)
        #expect(missing.stderr.contains("does not exist"))
        let dir = try Fixtures.temporaryDirectory("badjson")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Command.tool(["list", "--json", "--root", root]).stdout.write(toFile: dir + "/list.json", atomically: true, encoding: .utf8)
        let list = try Command.tool(["diff", dir + "/list.json", root])
        #expect(list.status == 3)
        #expect(list.stderr.contains("not a `vfio-inspect report --json`"))
        try "{\"schemaVersion\": 1, \"truncated".write(toFile: dir + "/cut.json", atomically: true, encoding: .utf8)
        #expect(try Command.tool(["diff", dir + "/cut.json", root]).status == 3)

        let python = try #require(JSONSchemaCheck.python)
        let schema = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Schemas/vfio-inspect-diff.schema.json").path
        for pair in [["multifunction", "sriov"], ["rp-acs", "no-iommu"], ["rp-acs", "vfio-bound"], ["switch", "switch"]] {
            let r = try Command.tool(["diff", "--json", Fixtures.sysfs(pair[0]), Fixtures.sysfs(pair[1])])
            let path = dir + "/\(pair[0])-\(pair[1]).json"
            try r.stdout.write(toFile: path, atomically: true, encoding: .utf8)
            let v = try JSONSchemaCheck.validate(python: python, schema: schema, document: path)
            #expect(v.status == 0, "\(pair): \(v.stdout)")
        }
    }
}
