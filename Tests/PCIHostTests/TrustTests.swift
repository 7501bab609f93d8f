import Foundation
import PCIHost
import Testing
import TestSupport
import VFIOAnalysis

/// Verdicts never outrun the evidence: the cases from the field (Tests/Fixtures/cases, each with a README
/// saying what is right) and the kinds of fault they stand for. A missing fact gives UNKNOWN, never a PASS,
/// and never a FAIL or an explanation that rests on its absence.
@Suite("Unknown is not absent")
struct TrustTests {
    static func cases(_ name: String, _ file: String = "dump.txt") -> String {
        Fixtures.cases(name, file)
    }

    static func checkLines(_ json: [String: Any]) -> [String: [String: Any]] {
        var result: [String: [String: Any]] = [:]
        for line in (json["checks"] as? [[String: Any]]) ?? [] {
            if let id = line["id"] as? String { result[id] = line }
        }
        return result
    }

    static func codes(_ line: [String: Any]?) -> [String] {
        ((line?["findings"] as? [[String: Any]]) ?? []).compactMap { $0["code"] as? String }
    }

    // MARK: The model

    @Test("every finding code belongs to exactly one check line, and every line has a stable id")
    func findingCodesHaveLines() {
        let ids = CheckLine.all.map(\.id)
        #expect(Set(ids).count == ids.count)
        #expect(Set(FindingCode.all.map(\.rawValue)).count == FindingCode.all.count, "a code is declared twice")
        for code in FindingCode.all {
            #expect(CheckLine.all.filter { $0 == code.line }.count == 1, "\(code) has no line")
            #expect(FindingCode(rawValue: code.rawValue) == code)
        }
        #expect(FindingCode(rawValue: "no-such-code") == nil)
    }

    @Test("a verdict: a known blocker blocks; else an unknown leaves it undetermined; a warning needs preparation")
    func verdictOrder() {
        let unknown = Finding.unknown(.resetUnknown, "?", Unknown("r", remedy: "m"))
        #expect(UnitVerdict([unknown]) == .undetermined)
        #expect(UnitVerdict([unknown, Finding(.hostMounted, .fail, "x")]) == .blocked)
        #expect(UnitVerdict([unknown, Finding(.hostDriver, .warn, "x")]) == .undetermined)
        #expect(UnitVerdict([Finding(.hostDriver, .warn, "x")]) == .needsPreparation)
        #expect(UnitVerdict([Finding(.iommuOn, .info, "x")]) == .ready)
    }

    @Test("check --json validates against Schemas/vfio-inspect-check.schema.json: fixtures, dumps and the cases",
          arguments: [["--root", Fixtures.sysfs("sriov"), "01:00.0"], ["--root", Fixtures.sysfs("vfio-bound"), "01:00.0"],
                      ["--root", Fixtures.sysfs("no-iommu"), "01:00.0"], ["--root", Fixtures.sysfs("multifunction"), "01:00.1"],
                      ["--dump", TrustTests.cases("wx3100-rootport-acs-beyond-256"), "01:00.0"],
                      ["--dump", TrustTests.cases("xfi-pm-reset"), "81:00.0"],
                      ["--root", Fixtures.directory.appendingPathComponent("cases/partial-sysfs-group-links").path, "04:00.0"]])
    func checkSchema(_ args: [String]) throws {
        let python = try #require(JSONSchemaCheck.python, "needs python3-jsonschema (Scripts/install-deps.sh --test)")
        let schema = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Schemas/vfio-inspect-check.schema.json").path
        let dir = try Fixtures.temporaryDirectory("check-schema")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Command.tool(["check", "--json"] + args)
        try r.stdout.write(toFile: dir + "/out.json", atomically: true, encoding: .utf8)
        let v = try JSONSchemaCheck.validate(python: python, schema: schema, document: dir + "/out.json")
        #expect(v.status == 0, "\(args): \(v.stdout) \(v.stderr)")
        #expect(Int32(try Command.json(r.stdout)["exitStatus"] as? Int ?? -1) == r.status)
    }

    // MARK: Cases from the field

    @Test("cases/wx3100-rootport-acs-beyond-256: ACS beyond the dump is unknown; the group is uncertain with both outcomes")
    func acsBeyondDump() throws {
        let dump = Self.cases("wx3100-rootport-acs-beyond-256")
        let r = try Command.tool(["groups", "--dump", dump, "--json"])
        #expect(r.status == 0)
        #expect(!r.stdout.contains("without an ACS capability"))
        let json = try Command.json(r.stdout)
        #expect(json["iommuEnabled"] is NSNull)
        let predicted = try #require(json["predictedGroups"] as? [[String: Any]])
        let group = try #require(predicted.first { ($0["members"] as? [String])?.contains("0000:01:00.0") == true })
        #expect(group["certain"] as? Bool == false)
        #expect(group["ifIsolated"] as? [[String]] == [["0000:00:01.1"], ["0000:01:00.0"]])
        #expect(((group["unknown"] as? [[String: Any]]) ?? []).contains { ($0["reason"] as? String)?.contains("extended config space") == true })
        let check = try Command.tool(["check", "--dump", dump, "01:00.0", "--json"])
        #expect(check.status == 4, "undetermined")
        let lines = Self.checkLines(try Command.json(check.stdout))
        #expect(lines["whole-group"]?["result"] as? String == "UNKNOWN")
        #expect(lines["iommu"]?["result"] as? String == "UNKNOWN")
    }

    @Test("cases/navi-switch-64-bytes: an unknown port type is not a conventional bridge that aliases")
    func portTypeUnknown() throws {
        let dump = Self.cases("navi-switch-64-bytes")
        for command in [["groups"], ["report"], ["check", "2d:00.0"], ["tree"]] {
            let r = try Command.tool(command + ["--dump", dump])
            #expect(!r.stdout.contains("pci-bridge-alias") && !r.stdout.contains("is a PCI bridge that issues DMA"), "\(command)")
            #expect(!r.stdout.contains("conventional PCI"), "\(command)")
        }
        let json = try Command.json(try Command.tool(["groups", "--dump", dump, "--json"]).stdout)
        let predicted = try #require(json["predictedGroups"] as? [[String: Any]])
        let group = try #require(predicted.first { ($0["members"] as? [String])?.contains("0000:2d:00.0") == true })
        #expect(group["certain"] as? Bool == false)
        let kinds = ((group["why"] as? [[String: Any]]) ?? []).compactMap { $0["kind"] as? String }
        #expect(Set(kinds) == ["fact-unknown"])
        #expect(group["ifIsolated"] as? [[String]] == [["0000:2b:00.0"], ["0000:2c:00.0"], ["0000:2d:00.0"]])
    }

    @Test("cases/audio-endpoint-parent-missing: a PCIe Endpoint whose port is not in the dump is not on a root bus")
    func parentMissing() throws {
        let dump = Self.cases("audio-endpoint-parent-missing")
        let check = try Command.tool(["check", "--dump", dump, "07:00.0", "--json"])
        #expect(!check.stdout.contains("root bus"))
        let lines = Self.checkLines(try Command.json(check.stdout))
        #expect(lines["reset"]?["result"] as? String != "PASS")
        #expect(!Self.codes(lines["reset"]).contains("bus-reset-only"))
        let show = try Command.tool(["show", "--dump", dump, "07:00.0"])
        #expect(show.stdout.contains("Position:     unknown") && !show.stdout.contains("on a root bus"))
        let model = try DumpScanner(path: dump, options: ScanOptions(decodeCapabilities: true)).scan()
        let f = try #require(model.function(PCIAddress(bus: 7, device: 0, function: 0)))
        #expect(f.position.unknown?.reason.contains("not in the input") == true)
    }

    @Test("cases/xfi-pm-reset: PM reset from config space (no reset_method in a dump); broken INTx masking is a warning")
    func pmResetAndBrokenINTx() throws {
        let dump = Self.cases("xfi-pm-reset")
        let check = try Command.tool(["check", "--dump", dump, "81:00.0", "--json"])
        let lines = Self.checkLines(try Command.json(check.stdout))
        #expect(lines["reset"]?["result"] as? String == "PASS")
        #expect(Self.codes(lines["reset"]) == ["reset-available"])
        #expect(lines["interrupts"]?["result"] as? String == "WARN")
        #expect(Self.codes(lines["interrupts"]).contains("intx-masking-broken"))
        let show = try Command.tool(["show", "--dump", dump, "81:00.0"])
        #expect(show.stdout.contains("Reset:        pm (from config space"))
        #expect(!show.stdout.contains("may not be resettable"))
    }

    @Test("cases/partial-sysfs-group-links: groups from the device links; list and report agree; no IOMMU-off")
    func partialTreeGroupLinks() throws {
        let root = Fixtures.directory.appendingPathComponent("cases/partial-sysfs-group-links").path
        let list = try Command.json(try Command.tool(["list", "--root", root, "--json"]).stdout)
        let report = try Command.tool(["report", "--root", root, "--json"])
        let json = try Command.json(report.stdout)
        #expect(!report.stdout.contains("iommu-off"))
        let host = try #require(json["host"] as? [String: Any])
        let iommu = try #require(host["iommu"] as? [String: Any])
        #expect(iommu["groupSource"] as? String == "iommu-group-links")
        let units = try #require(json["groups"] as? [[String: Any]])
        #expect(units.compactMap { $0["id"] as? Int } == [3, 14])
        #expect(units.map { $0["members"] as? [String] ?? [] } == [["0000:00:06.0"], ["0000:04:00.0"]])
        // One source of truth: each function's group in list is the unit report puts it in.
        for f in (list["functions"] as? [[String: Any]]) ?? [] {
            let unit = units.first { ($0["members"] as? [String])?.contains(f["address"] as? String ?? "") == true }
            #expect(unit?["id"] as? Int == f["iommuGroup"] as? Int)
        }
        // Config space is missing, so what needs it is unknown, and nothing says ready.
        let nvme = try #require(units.first { $0["id"] as? Int == 14 })
        #expect(nvme["verdict"] as? String == "undetermined")
    }

    // MARK: Missing host facts

    @Test("no proc/mounts, proc/cmdline or proc/swaps: host use, ACS override and interrupt remapping are UNKNOWN, not PASS")
    func missingProcFiles() throws {
        let root = try Fixtures.scratchCopy(of: "host-in-use")
        defer { try? FileManager.default.removeItem(atPath: root) }
        for file in ["proc/mounts", "proc/cmdline"] { try FileManager.default.removeItem(atPath: root + "/" + file) }
        let check = try Command.tool(["check", "--root", root, "02:00.0", "--json"])
        #expect(check.status == 4, "\(check.stdout.prefix(300))")
        let lines = Self.checkLines(try Command.json(check.stdout))
        for id in ["host-use", "acs-override", "interrupt-remapping"] {
            #expect(lines[id]?["result"] as? String == "UNKNOWN", "\(id)")
        }
        #expect(!check.stdout.contains("not mounted"))
        // The host diagnostics are printed by report, check, groups and tree, not only by list --json.
        for command in [["report"], ["check", "02:00.0"], ["groups"], ["tree"]] {
            let r = try Command.tool(command + ["--root", root])
            #expect(r.stderr.contains("proc/mounts") && r.stderr.contains("proc/cmdline"), "\(command)")
        }
    }

    @Test("config space of 0, 32 bytes, a FIFO or a directory: reset and interrupts are UNKNOWN", arguments: ["empty", "short", "fifo", "directory"])
    func damagedConfig(_ how: String) throws {
        let root = try Fixtures.scratchCopy(of: "vfio-bound")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let config = root + "/sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0/config"
        let original = try Data(contentsOf: URL(fileURLWithPath: config))
        try FileManager.default.removeItem(atPath: config)
        switch how {
        case "empty": FileManager.default.createFile(atPath: config, contents: Data())
        case "short": FileManager.default.createFile(atPath: config, contents: original.prefix(32))
        case "fifo": #expect(mkfifo(config, 0o644) == 0)
        default: try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: false)
        }
        let check = try Command.tool(["check", "--root", root, "01:00.0", "--json"])
        #expect(check.status == 4, "\(how): \(check.stdout.prefix(200))")
        let lines = Self.checkLines(try Command.json(check.stdout))
        #expect(lines["interrupts"]?["result"] as? String == "UNKNOWN", "\(how)")
        // The kernel's reset_method is still in sysfs: the reset line may use it.
        #expect(lines["reset"]?["result"] as? String != nil)
    }

    @Test("interrupt remapping FAILs with nointremap, with intremap=off on AMD, and without an IOMMU",
          arguments: [("rp-acs", " nointremap"), ("amd-iommu", " intremap=off"), ("no-iommu", "")])
    func interruptRemappingOff(_ fixture: String, _ parameter: String) throws {
        let root = try Fixtures.scratchCopy(of: fixture)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cmdline = root + "/proc/cmdline"
        let text = try String(contentsOfFile: cmdline, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try Fixtures.replace(cmdline, withText: (text + parameter + "\n"))
        let check = try Command.tool(["check", "--root", root, "02:00.0", "--json"])
        let lines = Self.checkLines(try Command.json(check.stdout))
        #expect(lines["interrupt-remapping"]?["result"] as? String == "FAIL", "\(fixture)\(parameter)")
        #expect(check.status == 2)
    }

    // MARK: Incomplete input

    @Test("a function the scan skipped leaves its kernel group undetermined, never bridges-only or an ACS override")
    func skippedFunction() throws {
        let root = try Fixtures.scratchCopy(of: "switch")
        defer { try? FileManager.default.removeItem(atPath: root) }
        // Kernel group 5: downstream port 02:00.0 and the NIC 03:00.0 below it (no ACS on the port).
        let groups = try Fixtures.kernelGroups("switch")
        #expect(groups.contains(["0000:02:00.0", "0000:03:00.0"]))
        let endpoint = "0000:03:00.0"
        let entry = root + "/sys/bus/pci/devices/" + endpoint
        try Fixtures.replace(entry, withLinkTo: endpoint)
        let r = try Command.tool(["report", "--root", root, "--json"])
        let json = try Command.json(r.stdout)
        let unit = try #require((json["groups"] as? [[String: Any]])?.first { ($0["members"] as? [String])?.contains(endpoint) == true })
        #expect(unit["verdict"] as? String == "undetermined")
        let codes = ((unit["findings"] as? [[String: Any]]) ?? []).compactMap { $0["code"] as? String }
        #expect(codes.contains("group-incomplete") && !codes.contains("bridges-only"))
        #expect(!r.stdout.contains("group-prediction-mismatch"))
        #expect(r.stderr.contains(endpoint) && r.stderr.contains("skipped"))
    }

    @Test("an iommu_group link to a group the kernel does not list: the prediction is not called a match")
    func groupLinkToNowhere() throws {
        let root = try Fixtures.scratchCopy(of: "rp-acs")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let link = root + "/sys/devices/pci0000:00/0000:00:02.1/0000:02:00.0/iommu_group"
        try Fixtures.replace(link, withLinkTo: "../../../../kernel/iommu_groups/999")
        let json = try Command.json(try Command.tool(["report", "--root", root, "--json"]).stdout)
        #expect(json["groupPredictionMatches"] as? Bool != true)
        let unit = try #require((json["groups"] as? [[String: Any]])?.first { ($0["members"] as? [String])?.contains("0000:02:00.0") == true })
        #expect(unit["verdict"] as? String == "undetermined")
    }

    // MARK: Host use

    @Test("host use through stacked devices: LVM on an NVMe namespace mounted on /, and swap on a partition")
    func stackedHostUse() throws {
        let root = try Fixtures.scratchCopy(of: "host-in-use")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fm = FileManager.default
        // 03:00.0 carries nvme1n1 (partition nvme1n1p1), unmounted in the snapshot.
        let disk = root + "/sys/devices/pci0000:00/0000:00:02.2/0000:03:00.0/nvme/nvme1/nvme1n1"
        let dm = root + "/sys/devices/virtual/block/dm-0"
        try fm.createDirectory(atPath: dm + "/dm", withIntermediateDirectories: true)
        try "vg0-root\n".write(toFile: dm + "/dm/name", atomically: false, encoding: .utf8)
        try fm.createDirectory(atPath: disk + "/nvme1n1p1/holders", withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: disk + "/nvme1n1p1/holders/dm-0", withDestinationPath: "../../../../../../../../virtual/block/dm-0")
        let mounts = root + "/proc/mounts"
        let text = try String(contentsOfFile: mounts, encoding: .utf8)
        try Fixtures.replace(mounts, withText: (text + "/dev/mapper/vg0-root / ext4 rw,relatime 0 0\n"))
        try "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n".write(toFile: root + "/proc/swaps", atomically: false, encoding: .utf8)
        let check = try Command.tool(["check", "--root", root, "03:00.0", "--json"])
        let lines = Self.checkLines(try Command.json(check.stdout))
        #expect(lines["host-use"]?["result"] as? String == "FAIL")
        #expect(Self.codes(lines["host-use"]).contains("host-mounted"))
        #expect(check.stdout.contains("vg0-root"))
        // The same disk as swap instead.
        try Fixtures.replace(mounts, withText: text)
        try fm.removeItem(atPath: root + "/proc/swaps")
        try "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/nvme1n1p1                          partition\t1048572\t\t0\t\t-2\n"
            .write(toFile: root + "/proc/swaps", atomically: false, encoding: .utf8)
        let swap = Self.checkLines(try Command.json(try Command.tool(["check", "--root", root, "03:00.0", "--json"]).stdout))
        #expect(Self.codes(swap["host-use"]).contains("host-swap"))
    }

    @Test("a group on vfio-pci: ready only when the process table shows nobody holds it; a VM holding it blocks")
    func vfioHeldOpen() throws {
        let root = try Fixtures.scratchCopy(of: "vfio-bound")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fm = FileManager.default
        #expect(try Command.tool(["check", "--root", root, "01:00.0"]).status == 4)
        let model = try SysfsScanner(root: HostRoot(root)).scan()
        let group = try #require(model.function(PCIAddress(bus: 1, device: 0, function: 0))?.iommuGroup)
        // A process table: an editor with an ordinary file, and nobody on /dev/vfio.
        try fm.createDirectory(atPath: root + "/proc/4321/fd", withIntermediateDirectories: true)
        try "vim\n".write(toFile: root + "/proc/4321/comm", atomically: false, encoding: .utf8)
        try fm.createSymbolicLink(atPath: root + "/proc/4321/fd/3", withDestinationPath: "/home/admin/notes.txt")
        #expect(try Command.tool(["check", "--root", root, "01:00.0"]).status == 0)
        // QEMU holds the group open.
        try fm.createDirectory(atPath: root + "/proc/1234/fd", withIntermediateDirectories: true)
        try "qemu-system-x86\n".write(toFile: root + "/proc/1234/comm", atomically: false, encoding: .utf8)
        try fm.createSymbolicLink(atPath: root + "/proc/1234/fd/17", withDestinationPath: "/dev/vfio/\(group)")
        let held = try Command.tool(["check", "--root", root, "01:00.0"])
        #expect(held.status == 2)
        #expect(held.stdout.contains("PID 1234 (qemu-system-x86) has /dev/vfio/\(group) open"))
        // A snapshot keeps it.
        let copy = NSTemporaryDirectory() + "vfio-snap-\(UUID().uuidString)"
        defer { try? fm.removeItem(atPath: copy) }
        #expect(try Command.tool(["snapshot", "--root", root, copy]).status == 0)
        #expect(try Command.tool(["check", "--root", copy, "01:00.0"]).stdout.contains("PID 1234 (qemu-system-x86)"))
    }

    // MARK: Found by a fresh user's review

    @Test("a snapshot that cannot read every process's open files leaves the process table out, so vfio-pci groups stay UNKNOWN")
    func snapshotProcessTableAsNonRoot() throws {
        guard getuid() == 0, let setpriv = Command.which("setpriv") else { return }
        let root = try Fixtures.scratchCopy(of: "vfio-bound")
        let snap = NSTemporaryDirectory() + "vfio-snap-nonroot-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root); try? FileManager.default.removeItem(atPath: snap) }
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/proc/4242/fd", withIntermediateDirectories: true)
        try "qemu-system-x86\n".write(toFile: root + "/proc/4242/comm", atomically: false, encoding: .utf8)
        _ = try Command.run("/bin/chmod", ["-R", "a+rX", root])
        _ = try Command.run("/bin/chmod", ["700", root + "/proc/4242/fd"])
        let r = try Command.run(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", Command.toolPath, "snapshot", "--root", root, snap])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("process table was left out"))
        #expect(try Command.tool(["check", "--root", snap, "01:00.0"]).status == 4)
    }

    @Test("no groups in the input while an IOMMU unit or intel_iommu=on says there is one: UNKNOWN, not iommu-off")
    func groupsMissingWithIOMMU() throws {
        let root = try Fixtures.scratchCopy(of: "rp-acs")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.removeItem(atPath: root + "/sys/kernel/iommu_groups")
        let out = try Command.run("/usr/bin/find", [root + "/sys/devices", "-name", "iommu_group", "-delete"])
        #expect(out.status == 0)
        let check = try Command.tool(["check", "--root", root, "03:00.0", "--json"])
        #expect(!check.stdout.contains("iommu-off"))
        #expect(Self.checkLines(try Command.json(check.stdout))["iommu"]?["result"] as? String == "UNKNOWN")
    }

    @Test("an iommu_group link to a group directory that is gone: every command shows that group, as UNKNOWN")
    func groupDirectoryGone() throws {
        let root = try Fixtures.scratchCopy(of: "rp-acs")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let model = try SysfsScanner(root: HostRoot(root)).scan()
        let nvme = try #require(model.function(PCIAddress(bus: 2, device: 0, function: 0)))
        let group = try #require(nvme.iommuGroup)
        try FileManager.default.removeItem(atPath: root + "/sys/kernel/iommu_groups/\(group)")
        let check = try Command.tool(["check", "--root", root, "02:00.0", "--json"])
        #expect(!check.stdout.contains("not-in-group"))
        let lines = Self.checkLines(try Command.json(check.stdout))
        #expect(lines["whole-group"]?["result"] as? String == "UNKNOWN")
        let report = try Command.json(try Command.tool(["report", "--root", root, "--json"]).stdout)
        #expect(((report["host"] as? [String: Any])?["ungrouped"] as? [String])?.contains("0000:02:00.0") == false)
        #expect((report["groups"] as? [[String: Any]])?.contains { $0["id"] as? Int == group } == true)
        let groups = try Command.json(try Command.tool(["groups", "--root", root, "--json"]).stdout)
        #expect((groups["groups"] as? [[String: Any]])?.contains { ($0["members"] as? [String]) == ["0000:02:00.0"] } == true)
    }

    @Test("a dump cut down to one device keeps its group lines, but the group may have members it does not show")
    func filteredDumpGroups() throws {
        let text = try String(contentsOfFile: Fixtures.realdata("nvidia-bug-report-lspci/msi-b550m-pro-vdh-wifi.lspci-nnDvvvxxxx.txt"), encoding: .utf8)
        let blocks = text.components(separatedBy: "\n\n").filter { $0.hasPrefix("0000:0a:00.") }
        #expect(blocks.count >= 1)
        let r = try Command.run(Command.toolPath, ["check", "0a:00.0", "--dump", "-", "--json"], input: blocks.joined(separator: "\n\n") + "\n")
        let lines = Self.checkLines(try Command.json(r.stdout))
        #expect(lines["whole-group"]?["result"] as? String == "UNKNOWN", "\(r.stdout.prefix(300))")
        #expect(Self.codes(lines["whole-group"]).contains("group-incomplete"))
        // The whole dump cut off after the GPU's function 0 (whose multifunction bit promises more).
        let lines11075 = text.split(separator: "\n", omittingEmptySubsequences: false).prefix(11075).joined(separator: "\n") + "\n"
        let cut = try Command.run(Command.toolPath, ["check", "0a:00.0", "--dump", "-", "--json"], input: lines11075)
        #expect(Self.checkLines(try Command.json(cut.stdout))["whole-group"]?["result"] as? String == "UNKNOWN")
    }

    @Test("a damaged physfn does not make a definite detached VF when the PF's virtfn link names it")
    func physfnDamaged() throws {
        let root = try Fixtures.scratchCopy(of: "sriov")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let physfn = root + "/sys/devices/pci0000:00/0000:00:02.0/0000:01:00.1/physfn"
        try FileManager.default.removeItem(atPath: physfn)
        FileManager.default.createFile(atPath: physfn, contents: Data())
        let check = try Command.tool(["check", "--root", root, "01:00.1"])
        #expect(!check.stdout.contains("detached-vf"))
        let model = try SysfsScanner(root: HostRoot(root)).scan()
        #expect(model.function(PCIAddress(bus: 1, device: 0, function: 1))?.physicalFunction == PCIAddress(bus: 1, device: 0, function: 0))
    }

    @Test("a dump with a missing hex row: only the bytes before the gap are known, never libpci's ff filler")
    func dumpRowMissing() throws {
        let text = try String(contentsOfFile: Self.cases("wx3100-rootport-acs-beyond-256"), encoding: .utf8)
        let gap = text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("10: ") }.joined(separator: "\n")
        let r = try Command.run(Command.toolPath, ["list", "--dump", "-", "--json"], input: gap)
        let functions = (try Command.json(r.stdout)["functions"] as? [[String: Any]]) ?? []
        let port = try #require(functions.first { $0["address"] as? String == "0000:00:01.1" })
        #expect(port["configBytesReadable"] as? Int == 16)
        #expect(((port["diagnostics"] as? [[String: Any]]) ?? []).contains { $0["code"] as? String == "dump-gap" })
    }

    @Test("second review: SR-IOV from the capability in a dump; a missing group link; /dev/root; an unreadable reset_method; physfn and virtfn both damaged")
    func secondReview() throws {
        // A dump of a PF whose SR-IOV capability has VF Enable set: blocked, as vfio-pci refuses it.
        let pf = try Command.json(try Command.tool(["check", "--dump", Fixtures.realdata("pciutils-tests/cap-pcie-2"), "01:00.0", "--json"]).stdout)
        #expect(Self.codes(Self.checkLines(pf)["sriov"]).contains("pf-with-vfs"))
        #expect(pf["verdict"] as? String == "blocked")
        let fm = FileManager.default
        // Groups from links only, and one function without its link: its group is unknown, not "none".
        let links = try Fixtures.scratchCopy(of: "rp-acs")
        defer { try? fm.removeItem(atPath: links) }
        try fm.removeItem(atPath: links + "/sys/kernel/iommu_groups")
        try fm.removeItem(atPath: links + "/sys/devices/pci0000:00/0000:00:1f.3/iommu_group")
        let missing = try Command.tool(["check", "--root", links, "00:1f.3", "--json"])
        #expect(!missing.stdout.contains("not-in-group"))
        #expect(Self.checkLines(try Command.json(missing.stdout))["whole-group"]?["result"] as? String == "UNKNOWN")
        // The root file system as /dev/root: which disk backs it cannot be told, so an unmounted-looking disk is UNKNOWN.
        let rootfs = try Fixtures.scratchCopy(of: "host-in-use")
        defer { try? fm.removeItem(atPath: rootfs) }
        let mounts = try String(contentsOfFile: rootfs + "/proc/mounts", encoding: .utf8).replacingOccurrences(of: "/dev/nvme0n1 /mnt ext2", with: "/dev/root / ext4")
        try Fixtures.replace(rootfs + "/proc/mounts", withText: mounts)
        try "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n".write(toFile: rootfs + "/proc/swaps", atomically: false, encoding: .utf8)
        let root = Self.checkLines(try Command.json(try Command.tool(["check", "--root", rootfs, "02:00.0", "--json"]).stdout))
        #expect(root["host-use"]?["result"] as? String == "UNKNOWN")
        // reset_method present but unreadable (a FIFO): not "the kernel has none".
        let reset = try Fixtures.scratchCopy(of: "rp-acs")
        defer { try? fm.removeItem(atPath: reset) }
        let file = reset + "/sys/devices/pci0000:00/0000:00:02.2/0000:03:00.0/reset_method"
        try fm.removeItem(atPath: file)
        #expect(mkfifo(file, 0o644) == 0)
        let r = try Command.tool(["check", "--root", reset, "03:00.0"])
        #expect(!r.stdout.contains("no reset_method file"))
        // physfn and the PF's virtfn0 both damaged: the VF's PF is unknown, not "not visible".
        let vf = try Fixtures.scratchCopy(of: "sriov")
        defer { try? fm.removeItem(atPath: vf) }
        let port = vf + "/sys/devices/pci0000:00/0000:00:02.0"
        for path in ["0000:01:00.1/physfn", "0000:01:00.0/virtfn0"] {
            try fm.removeItem(atPath: port + "/" + path)
            fm.createFile(atPath: port + "/" + path, contents: Data())
        }
        let both = try Command.tool(["check", "--root", vf, "01:00.1", "--json"])
        #expect(!both.stdout.contains("detached-vf"))
        #expect(Self.checkLines(try Command.json(both.stdout))["sriov"]?["result"] as? String == "UNKNOWN")
    }

    // MARK: Selectors and options

    @Test("a selector that matches nothing is named, with one exit status (5) across commands")
    func unmatchedSelectors() throws {
        let root = Fixtures.sysfs("sriov")
        for args in [["check", "01:00.2", "99:00.0"], ["plan", "01:00.2", "99:00.0"], ["show", "99:00.0"], ["list", "-s", "99:00.0"],
                     ["plan", "01:00.2", "--hide", "99:00.0"], ["tree", "-s", "99:00.0"]] {
            let r = try Command.tool(args + ["--root", root])
            #expect(r.status == 5, "\(args): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("99:00.0"), "\(args)")
        }
        #expect(try Command.tool(["list", "--root", ""]).status == 64)
        let link = NSTemporaryDirectory() + "vfio-inspect-root-link-\(UUID().uuidString)"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: root)
        defer { try? FileManager.default.removeItem(atPath: link) }
        #expect(try Command.tool(["list", "--root", link]).status == 0)
    }

    @Test("smaller: -d with a class, --first-index -5, --pci-ids /missing, hotplug script's unknown action")
    func smallerOptions() throws {
        let root = Fixtures.sysfs("sriov")
        let nvme = try Command.tool(["list", "--root", root, "-d", "1b36::0108"])
        #expect(nvme.stdout.split(separator: "\n").count == 5)
        let index = try Command.tool(["plan", "--root", root, "01:00.2", "--first-index", "-5"])
        #expect(index.status == 64 && index.stderr.contains("-5"))
        let ids = try Command.tool(["list", "--root", root, "--pci-ids", "/missing"])
        #expect(ids.stderr.contains("/missing") && !ids.stderr.contains("install"))
        let script = try Command.tool(["plan", "--root", root, "01:00.2", "--format", "virsh-hotplug"])
        let path = NSTemporaryDirectory() + "plan-\(UUID().uuidString).sh"
        try script.stdout.write(toFile: path, atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try Command.run("/bin/sh", [path, "guest", "atach"])
        #expect(run.status == 64 && run.stderr.contains("atach"))
    }

    @Test("a PF with VFs: check blocks where plan refuses, and the fix names the VFs bound to vfio-pci")
    func pfWithVFsConsistent() throws {
        let root = Fixtures.sysfs("sriov")
        let check = try Command.tool(["check", "--root", root, "01:00.0", "--json"])
        #expect(check.status == 2)
        let lines = Self.checkLines(try Command.json(check.stdout))
        let finding = try #require(((lines["sriov"]?["findings"] as? [[String: Any]]) ?? []).first { $0["code"] as? String == "pf-with-vfs" })
        #expect((finding["fix"] as? String)?.contains("0000:01:00.2") == true)
        #expect(try Command.tool(["plan", "--root", root, "01:00.0"]).status == 2)
    }

    @Test("a bus reset reaches the whole subtree: 02:01.0's collateral includes 03:01.0 behind the sibling bridge")
    func busResetSubtree() throws {
        let check = try Command.tool(["check", "--root", Fixtures.sysfs("pcie-pci-bridge"), "02:01.0", "--json"])
        let lines = Self.checkLines(try Command.json(check.stdout))
        let reset = try #require((lines["reset"]?["findings"] as? [[String: Any]])?.first)
        #expect((reset["functions"] as? [String])?.contains("0000:03:01.0") == true)
    }

    @Test("no advice to boot with pci=pcie_scan_all: a guest does not scan functions without function 0 either way")
    func noPcieScanAll() throws {
        let check = try Command.tool(["check", "--root", Fixtures.sysfs("multifunction"), "01:00.1"])
        #expect(check.stdout.contains("function0-missing"))
        #expect(!check.stdout.contains("pci=pcie_scan_all"))
        let help = try Command.tool(["plan", "--help"])
        #expect(!help.stdout.contains("must boot with pci=pcie_scan_all"))
    }
}
