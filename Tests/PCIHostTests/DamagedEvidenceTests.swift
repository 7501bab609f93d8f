import Foundation
import PCIHost
import Testing
import TestSupport
import VFIOAnalysis
import VFIOReport

/// Each kind of damage the issue "Damaged evidence is unknown" names, with the value that is right asserted:
/// damaged or contradictory evidence is unknown (or the contradiction it is), never absent.
@Suite("Damaged evidence is unknown, never absent")
struct DamagedEvidenceTests {
    /// A scratch copy of a fixture (links kept) that the test damages; removed by the caller.
    static func copy(_ fixture: String) throws -> String {
        let root = try Fixtures.scratchCopy(of: fixture)
        _ = try Command.run("/bin/chmod", ["-R", "u+w", root])
        return root
    }

    static func model(_ root: String) throws -> HostModel {
        try SysfsScanner(root: HostRoot(root), options: ScanOptions(decodeCapabilities: true)).scan()
    }

    static func unit(_ model: HostModel, _ address: String) throws -> UnitReport {
        let a = try #require(PCIAddress(sysfsName: address))
        return try #require(Reporter.report(model).units.first { $0.members.contains(a) })
    }

    static func line(_ model: HostModel, _ address: String, _ id: String) throws -> String {
        let a = try #require(PCIAddress(sysfsName: address))
        return try #require(CheckLines.lines(Reporter.check(model, selected: [a]).findings).first { $0.id == id }).result
    }

    static func replace(_ path: String, with make: (String) throws -> Void) throws {
        let fm = FileManager.default
        if (try? fm.destinationOfSymbolicLink(atPath: path)) != nil || fm.fileExists(atPath: path) { try fm.removeItem(atPath: path) }
        try make(path)
    }

    // MARK: A PCI Express capability cut off

    /// A root port whose config ends inside its PCI Express capability: its port type, FLR and ACS are unknown,
    /// never "conventional PCI" (which would make it a bridge that takes over the requester IDs below it, a
    /// cause nobody read), and no group below it is worse known than with the intact port.
    @Test("a PCI Express capability cut off is unknown, not conventional PCI")
    func truncatedExpressCapability() throws {
        let root = try Self.copy("switch")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let port = try #require(PCIAddress(sysfsName: "0000:00:02.0"))
        let dir = try FileManager.default.destinationOfSymbolicLink(atPath: root + "/sys/bus/pci/devices/0000:00:02.0")
        let config = root + "/sys/bus/pci/devices/" + dir + "/config"
        let bytes = try Fixtures.readBytes(config)
        #expect(bytes[0x54] == 0x10)
        // 0x5a bytes: the capability's pointers are readable, its registers (0x54 + 0x0c) are not.
        try Data(bytes.prefix(0x5a)).write(to: URL(fileURLWithPath: config))
        let model = try Self.model(root)
        let f = try #require(model.function(port))
        #expect(f.config?.pciExpress == nil)
        #expect(f.capabilitiesUnknown != nil)
        guard case .unknown = f.portType else {
            Issue.record("port type of a cut-off capability: \(f.portType)")
            return
        }
        if case .known = ResetRules.capability(f, model).methods, f.resetMethods == nil {
            Issue.record("reset methods known without the capability that says FLR")
        }
        let causes = GroupPredictor.predict(model).groups.flatMap(\.causes)
        #expect(!causes.contains { $0.kind == .pciBridgeAlias && $0.at == port }, "\(causes)")
        let intact = try Self.model(Fixtures.sysfs("switch"))
        let before = Reporter.report(intact).units, after = Reporter.report(model).units
        for unit in after {
            guard let old = before.first(where: { $0.members == unit.members }) else { continue }
            #expect(DamageSweepTests.rank(unit.verdict) <= DamageSweepTests.rank(old.verdict), "\(unit.members): \(old.verdict) -> \(unit.verdict)")
        }
    }

    // MARK: A VM holding a group open

    /// The sriov snapshot with a process table in which PID 4242 (a VM) holds group 7 (VF 01:00.2 on vfio-pci).
    static func heldGroup() throws -> String {
        let root = try copy("sriov")
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/proc/1/fd", withIntermediateDirectories: true)
        try "bash\n".write(toFile: root + "/proc/1/comm", atomically: false, encoding: .utf8)
        try fm.createSymbolicLink(atPath: root + "/proc/1/fd/0", withDestinationPath: "/dev/null")
        try fm.createDirectory(atPath: root + "/proc/4242/fd", withIntermediateDirectories: true)
        try "qemu-system-x86\n".write(toFile: root + "/proc/4242/comm", atomically: false, encoding: .utf8)
        try fm.createSymbolicLink(atPath: root + "/proc/4242/fd/17", withDestinationPath: "/dev/vfio/7")
        return root
    }

    @Test("a VM's fd entry or PID directory damaged: the group is undetermined, never ready",
          arguments: ["fd entry as a file", "fd entry as a directory", "fd entry as a FIFO", "fd entry relative", "PID as a file", "PID as an empty directory"])
    func vmHoldingGroup(_ damage: String) throws {
        let root = try Self.heldGroup()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let intact = try Self.unit(try Self.model(root), "0000:01:00.2")
        #expect(intact.verdict == .blocked && intact.findings.contains { $0.code == .vfioInUse && $0.severity == .fail })
        let fd = root + "/proc/4242/fd/17"
        let fm = FileManager.default
        switch damage {
        case "fd entry as a file": try Self.replace(fd) { fm.createFile(atPath: $0, contents: Data()) }
        case "fd entry as a directory": try Self.replace(fd) { try fm.createDirectory(atPath: $0, withIntermediateDirectories: false) }
        case "fd entry as a FIFO": try Self.replace(fd) { #expect(mkfifo($0, 0o600) == 0) }
        case "fd entry relative": try Self.replace(fd) { try fm.createSymbolicLink(atPath: $0, withDestinationPath: "does-not-exist") }
        case "PID as a file": try Self.replace(root + "/proc/4242") { fm.createFile(atPath: $0, contents: Data("x".utf8)) }
        default: try Self.replace(root + "/proc/4242") { try fm.createDirectory(atPath: $0, withIntermediateDirectories: false) }
        }
        let model = try Self.model(root)
        #expect(model.environment.vfioUsers.unknown != nil, "\(damage): the process table reads as known")
        let unit = try Self.unit(model, "0000:01:00.2")
        #expect(unit.verdict == .undetermined, "\(damage): \(unit.verdict)")
        #expect(try Self.line(model, "0000:01:00.2", "host-use") == "UNKNOWN")
        // The command line agrees: not ready, not exit 0.
        let r = try Command.tool(["check", "01:00.2", "--root", root])
        #expect(r.status == 4, "\(damage): check exits \(r.status)")
    }

    @Test("a process holding the group is found whatever the function's driver link says")
    func heldWithDamagedDriver() throws {
        let root = try Self.heldGroup()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let driver = root + "/sys/devices/pci0000:00/0000:00:02.0/0000:01:00.2/driver"
        try Self.replace(driver) { try FileManager.default.createSymbolicLink(atPath: $0, withDestinationPath: "../../../../../../../../outside/vfio-pci") }
        let model = try Self.model(root)
        let f = try #require(model.function(PCIAddress(bus: 1, device: 0, function: 2)))
        #expect(!f.driverBinding.isKnown, "a driver link out of sys/bus/pci/drivers names no driver")
        #expect(try Self.unit(model, "0000:01:00.2").findings.contains { $0.code == .vfioInUse && $0.severity == .fail })
    }

    @Test("a holder of /dev/vfio in a form the kernel writes, or that names no known group or device, is never read as nobody",
          arguments: ["/dev/vfio/7 (deleted)", "/dev/vfio//7", "//dev/vfio/7", "/dev/vfio/07", "/dev/vfio/devices/vfio3"])
    func holderForms(_ target: String) throws {
        let root = try Self.heldGroup()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Self.replace(root + "/proc/4242/fd/17") { try FileManager.default.createSymbolicLink(atPath: $0, withDestinationPath: target) }
        let model = try Self.model(root)
        #expect(try Self.line(model, "0000:01:00.2", "host-use") != "PASS", "\(target)")
        #expect(try Self.unit(model, "0000:01:00.2").verdict != .ready, "\(target)")
    }

    // MARK: Host use

    @Test("proc/mounts without a root mount is unknown: the mounted NVMe is not cleared")
    func emptyMounts() throws {
        let root = try Self.copy("host-in-use")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "".write(toFile: root + "/proc/mounts", atomically: false, encoding: .utf8)
        let model = try Self.model(root)
        #expect(model.environment.mounts.unknown != nil)
        #expect(try Self.line(model, "0000:02:00.0", "host-use") == "UNKNOWN")
        #expect(try Self.unit(model, "0000:02:00.0").verdict == .undetermined)
    }

    @Test("an interface whose flags are missing or empty is up or unknown, never down", arguments: ["missing", "empty", "garbage"])
    func netFlags(_ how: String) throws {
        let root = try Self.copy("host-in-use")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let flags = root + "/sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0/net/eth0/flags"
        switch how {
        case "missing": try FileManager.default.removeItem(atPath: flags)
        case "empty": try "".write(toFile: flags, atomically: false, encoding: .utf8)
        default: try "0xzz\n".write(toFile: flags, atomically: false, encoding: .utf8)
        }
        let model = try Self.model(root)
        #expect(try Self.line(model, "0000:01:00.0", "host-use") == "UNKNOWN")
        #expect(try Self.unit(model, "0000:01:00.0").verdict == .undetermined)
    }

    @Test("flags down while operstate says up is a contradiction: unknown")
    func netContradiction() throws {
        let root = try Self.copy("host-in-use")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "0x1002\n".write(toFile: root + "/sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0/net/eth0/flags", atomically: false, encoding: .utf8)
        #expect(try Self.line(try Self.model(root), "0000:01:00.0", "host-use") == "UNKNOWN")
    }

    @Test("a VGA function without boot_vga: whether it is the host's console is unknown", arguments: ["missing", "garbage"])
    func bootVGA(_ how: String) throws {
        let root = try Self.copy("host-in-use")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/sys/devices/pci0000:00/0000:00:01.0/boot_vga"
        if how == "missing" { try FileManager.default.removeItem(atPath: path) } else { try "2\n".write(toFile: path, atomically: false, encoding: .utf8) }
        let model = try Self.model(root)
        #expect(try Self.line(model, "0000:00:01.0", "host-use") == "UNKNOWN")
        #expect(try Self.unit(model, "0000:00:01.0").verdict == .undetermined)
    }

    // MARK: SR-IOV, firmware mappings, reset

    @Test("sriov_numvfs of 0 or -1 while virtfn links exist: the PF still has VFs (FAIL), and says the two disagree", arguments: ["0", "-1"])
    func numVFsContradiction(_ value: String) throws {
        let root = try Self.copy("sriov")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "\(value)\n".write(toFile: root + "/sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0/sriov_numvfs", atomically: false, encoding: .utf8)
        let model = try Self.model(root)
        #expect(try Self.line(model, "0000:01:00.0", "sriov") == "FAIL")
        let finding = try #require(try Self.unit(model, "0000:01:00.0").findings.first { $0.code == .pfWithVFs })
        #expect(finding.evidence.contains { $0.contains("3 virtfn links") })
    }

    @Test("reserved_regions unreadable, garbage or missing: a firmware 1:1 mapping is unknown, not absent",
          arguments: ["directory", "FIFO", "garbage", "missing"])
    func reservedRegions(_ how: String) throws {
        let root = try Self.copy("host-in-use")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/sys/kernel/iommu_groups/9/reserved_regions"
        let fm = FileManager.default
        switch how {
        case "directory": try Self.replace(path) { try fm.createDirectory(atPath: $0, withIntermediateDirectories: false) }
        case "FIFO": try Self.replace(path) { #expect(mkfifo($0, 0o600) == 0) }
        case "garbage": try "not a region\n".write(toFile: path, atomically: false, encoding: .utf8)
        default: try fm.removeItem(atPath: path)
        }
        let model = try Self.model(root)
        let finding = try #require(try Self.unit(model, "0000:03:00.0").findings.first { $0.code == .directMapping })
        #expect(finding.severity == .unknown)
        #expect(try Self.line(model, "0000:03:00.0", "candidate") == "UNKNOWN")
    }

    @Test("an empty reset_method (every method disabled by the admin) is no reset, not the FLR config space advertises")
    func resetDisabled() throws {
        let root = try Self.copy("sriov")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/sys/devices/pci0000:00/0000:00:02.1/0000:02:00.0/reset_method"
        let before = try Self.unit(try Self.model(root), "0000:02:00.0").findings
        #expect(before.contains { $0.code == .resetAvailable })
        try "".write(toFile: path, atomically: false, encoding: .utf8)
        let model = try Self.model(root)
        let findings = try Self.unit(model, "0000:02:00.0").findings
        #expect(!findings.contains { $0.code == .resetAvailable })
        // VFIO's hot reset (pci_reset_bus) does not consult reset_method, so a bus reset may remain: either way, no function reset.
        #expect(findings.contains { ($0.code == .noReset || $0.code == .busResetOnly) && $0.evidence.contains { $0.contains("disabled") } })
        #expect(try Self.line(model, "0000:02:00.0", "reset") == "WARN")
        // Damaged (not the kernel's method names): unknown, and config space does not stand in for it.
        try "flr\u{1b}[2J\n".write(toFile: path, atomically: false, encoding: .utf8)
        #expect(try Self.line(try Self.model(root), "0000:02:00.0", "reset") == "UNKNOWN")
    }

    // MARK: Config space that is not registers

    @Test("config that reads all ones or all zeros: not responding, nothing decoded; a root port stays a bridge",
          arguments: ["ones", "zeros"])
    func configNotResponding(_ fill: String) throws {
        let root = try Self.copy("sriov")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let byte: UInt8 = fill == "ones" ? 0xff : 0
        let port = root + "/sys/devices/pci0000:00/0000:00:02.1"
        FileManager.default.createFile(atPath: port + "/config", contents: Data(repeating: byte, count: 4096))
        FileManager.default.createFile(atPath: port + "/0000:02:00.0/config", contents: Data(repeating: byte, count: 4096))
        let model = try Self.model(root)
        let rp = try #require(model.function(PCIAddress(bus: 0, device: 2, function: 1)))
        #expect(rp.configUnusable != nil && rp.header == nil && rp.isBridge)
        #expect(Reporter.report(model).units.first { $0.members.contains(rp.address) }?.findings.contains { $0.code == .bridgesOnly } == true)
        let ep = try #require(model.function(PCIAddress(bus: 2, device: 0, function: 0)))
        #expect(ep.configUnusable != nil && ep.config == nil && ep.sriov == .none)
        // What config space would tell is unknown; what the kernel tells in sysfs (reset_method, no sriov_* files) stands.
        for id in ["candidate", "interrupts"] {
            #expect(try Self.line(model, "0000:02:00.0", id) == "UNKNOWN", "\(id)")
        }
        let reset = try #require(try Self.unit(model, "0000:02:00.0").findings.first { $0.code.line == .reset })
        #expect(reset.evidence.contains { $0.hasPrefix("reset_method") }, "\(reset.evidence)")
        let codes = Set(try Self.unit(model, "0000:02:00.0").findings.map(\.code))
        #expect(!codes.contains(.intxOnly) && !codes.contains(.detachedVF) && codes.contains(.notResponding))
        #expect(ep.diagnostics.contains { $0.code == "config-not-responding" })
    }

    @Test("the case of the bug report: an FPGA that read all ones after a hot reset (cases/config-all-ones)")
    func configAllOnesCase() throws {
        let path = Fixtures.cases("config-all-ones")
        let r = try Command.tool(["check", "01:00.0", "--dump", path, "--json"])
        let lines = TrustTests.checkLines(try Command.json(r.stdout))
        for id in ["candidate", "interrupts", "sriov", "reset"] { #expect(lines[id]?["result"] as? String == "UNKNOWN", "\(id)") }
        #expect(TrustTests.codes(lines["candidate"]).contains("not-responding"))
        #expect(!TrustTests.codes(lines["interrupts"]).contains("intx-only"))
        let show = try Command.tool(["show", "01:00.0", "--dump", path])
        #expect(show.stdout.contains("not responding") && !show.stdout.contains("multifunction bit set"), "\(show.stdout)")
        #expect(try Command.tool(["list", "--dump", path]).stdout.contains("config space not responding"))
    }

    @Test("extended config space that alone reads all ones is unreadable: ACS unknown, not absent")
    func extendedAllOnes() throws {
        let root = try Self.copy("rp-acs")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/sys/devices/pci0000:00/0000:00:02.0/config"
        var bytes = try Fixtures.readBytes(path)
        for i in 0x100..<bytes.count { bytes[i] = 0xff }
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let model = try Self.model(root)
        let port = try #require(model.function(PCIAddress(bus: 0, device: 2, function: 0)))
        #expect(port.config?.extendedCoverage == .unreadable)
        #expect(port.acsCapability.unknown != nil)
        #expect(port.diagnostics.contains { $0.code == "extended-space-unreadable" })
    }

    @Test("a link with `x/..` in it is walked, not taken lexically: through a file, a loop or nothing it is damaged, never a driver or a device")
    func linksWalkedThroughDotDot() throws {
        for passage in ["file", "loop", "missing"] {
            let root = try Self.copy("sriov")
            defer { try? FileManager.default.removeItem(atPath: root) }
            let drivers = root + "/sys/bus/pci/drivers"
            switch passage {
            case "file": try Fixtures.replace(drivers + "/x", withText: "not a directory\n")
            case "loop": try FileManager.default.createSymbolicLink(atPath: drivers + "/x", withDestinationPath: "x")
            default: break
            }
            // The NVMe's driver link names vfio-pci through drivers/x/..; its device link passes devices/x/.. too.
            let dir = root + "/sys/devices/pci0000:00/0000:00:02.1/0000:02:00.0"
            let before = try #require(try Self.model(root).function(PCIAddress(bus: 2, device: 0, function: 0)))
            let original = try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/driver")
            let driverName = String(original.split(separator: "/").last ?? "")
            try Fixtures.replace(dir + "/driver", withLinkTo: original.replacingOccurrences(of: "drivers/" + driverName, with: "drivers/x/../" + driverName))
            let entry = root + "/sys/bus/pci/devices/0000:02:00.0"
            let device = try FileManager.default.destinationOfSymbolicLink(atPath: entry)
            let model = try Self.model(root)
            let f = try #require(model.function(PCIAddress(bus: 2, device: 0, function: 0)))
            #expect(before.driverBinding.isKnown)
            if passage == "missing" {
                #expect(f.diagnostics.contains { $0.code == "dangling-link" }, "\(passage): \(f.diagnostics)")
            } else {
                #expect(!f.driverBinding.isKnown, "\(passage): \(f.driverBinding)")
            }
            try Fixtures.replace(entry, withLinkTo: device.replacingOccurrences(of: "devices/pci0000:00", with: "devices/x/../pci0000:00"))
            if passage == "file" { try Fixtures.replace(root + "/sys/devices/x", withText: "not a directory\n") }
            let again = try Self.model(root)
            #expect(again.function(PCIAddress(bus: 2, device: 0, function: 0)) == nil, "\(passage)")
            #expect(again.skippedFunctions.contains(PCIAddress(bus: 2, device: 0, function: 0)), "\(passage)")
        }
    }

    @Test("config IDs that contradict modalias leave the revision to the revision file, not 0")
    func revisionAfterMismatch() throws {
        let root = try Self.copy("sriov")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dir = root + "/sys/devices/pci0000:00/0000:00:02.1/0000:02:00.0"
        let before = try #require(try Self.model(root).function(PCIAddress(bus: 2, device: 0, function: 0)))
        var bytes = try Fixtures.readBytes(dir + "/config")
        bytes[0] = 0xde; bytes[1] = 0x10
        FileManager.default.createFile(atPath: dir + "/config", contents: Data(bytes))
        try Fixtures.replace(dir + "/revision", withText: "0x07\n")
        let f = try #require(try Self.model(root).function(PCIAddress(bus: 2, device: 0, function: 0)))
        #expect(f.diagnostics.contains { $0.code == "id-mismatch" })
        #expect(f.revision == 0x07 && before.revision != 0x07, "\(f.revision)")
    }

    @Test("modalias gives the IDs: one that contradicts config space is an id-mismatch; a damaged one sends the scan to the separate files",
          arguments: ["pci:v00008086d000029C0sv00001AF4sd00001100bc01sc08i02", "pci:v00001B36", "garbage", ""])
    func modaliasDamaged(_ text: String) throws {
        let root = try Self.copy("sriov")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dir = root + "/sys/devices/pci0000:00/0000:00:02.1/0000:02:00.0"
        let before = try #require(try Self.model(root).function(PCIAddress(bus: 2, device: 0, function: 0)))
        try Fixtures.replace(dir + "/modalias", withText: text + "\n")
        let f = try #require(try Self.model(root).function(PCIAddress(bus: 2, device: 0, function: 0)))
        if text.hasPrefix("pci:v00008086") {
            #expect(f.configUnusable != nil && f.config == nil && f.diagnostics.contains { $0.code == "id-mismatch" })
        } else {
            // Read from vendor, device, class, subsystem_*: the same identity as before, with the damage named.
            #expect(f.vendorID == before.vendorID && f.deviceID == before.deviceID && f.classCode == before.classCode)
            #expect(f.subsystemVendorID == before.subsystemVendorID && f.subsystemDeviceID == before.subsystemDeviceID)
            #expect(f.diagnostics.contains { $0.code == "malformed-attribute" || $0.code == "empty-attribute" }, "\(f.diagnostics)")
        }
    }

    @Test("config space whose IDs contradict sysfs is not decoded; a 1 GiB config is not config space (and not 'run as root')")
    func configContradicted() throws {
        let root = try Self.copy("sriov")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dir = root + "/sys/devices/pci0000:00/0000:00:02.1/0000:02:00.0"
        var bytes = try Fixtures.readBytes(dir + "/config")
        bytes[0] = 0x86; bytes[1] = 0x80
        FileManager.default.createFile(atPath: dir + "/config", contents: Data(bytes))
        var f = try #require(try Self.model(root).function(PCIAddress(bus: 2, device: 0, function: 0)))
        #expect(f.configUnusable != nil && f.config == nil && f.diagnostics.contains { $0.code == "id-mismatch" })
        try FileManager.default.removeItem(atPath: dir + "/config")
        FileManager.default.createFile(atPath: dir + "/config", contents: Data())
        #expect(truncate(dir + "/config", 1 << 30) == 0)
        f = try #require(try Self.model(root).function(PCIAddress(bus: 2, device: 0, function: 0)))
        #expect(f.configUnusable != nil)
        #expect(!f.diagnostics.contains { $0.message.contains("run as root") })
    }

    // MARK: Links and group directories

    @Test("an iommu_group link that leads outside sys/kernel/iommu_groups names no group")
    func groupLinkOutside() throws {
        let root = try Self.copy("sriov")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let link = root + "/sys/devices/pci0000:00/0000:00:02.1/0000:02:00.0/iommu_group"
        try Self.replace(link) { try FileManager.default.createSymbolicLink(atPath: $0, withDestinationPath: "/1") }
        let model = try Self.model(root)
        let f = try #require(model.function(PCIAddress(bus: 2, device: 0, function: 0)))
        #expect(!model.groupKnown(f))
        #expect(try Self.line(model, "0000:02:00.0", "whole-group") == "UNKNOWN")
    }

    @Test("a group whose devices/ is missing keeps its members from their links and is uncertain: not 'not covered', not 'bridges-only'")
    func groupDevicesMissing() throws {
        let root = try Self.copy("sriov")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let model0 = try Self.model(root)
        let nvme = try #require(model0.function(PCIAddress(bus: 2, device: 0, function: 0)))
        let group = try #require(nvme.iommuGroup)
        try FileManager.default.removeItem(atPath: root + "/sys/kernel/iommu_groups/\(group)/devices")
        let model = try Self.model(root)
        let unit = try Self.unit(model, "0000:02:00.0")
        #expect(unit.groupID == group && unit.verdict == .undetermined)
        let codes = Set(unit.findings.map(\.code))
        #expect(!codes.contains(.notInGroup) && !codes.contains(.bridgesOnly) && codes.contains(.groupIncomplete))
        #expect(!Reporter.report(model).units.contains { $0.members.isEmpty && $0.findings.contains { $0.code == .bridgesOnly } })
    }

    @Test("a member left out of its group's devices/ listing, while its link names the group, stays a member: the group is uncertain")
    func memberLeftOutOfListing() throws {
        let root = try Self.copy("sriov")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let model0 = try Self.model(root)
        let lpc = try #require(model0.function(PCIAddress(bus: 0, device: 0x1f, function: 0)))
        let group = try #require(lpc.iommuGroup)
        try FileManager.default.removeItem(atPath: root + "/sys/kernel/iommu_groups/\(group)/devices/0000:00:1f.0")
        let model = try Self.model(root)
        let unit = try Self.unit(model, "0000:00:1f.2")
        #expect(unit.members.contains(lpc.address))
        #expect(unit.verdict == .blocked || unit.verdict == .undetermined, "\(unit.verdict)")
        #expect(unit.findings.contains { $0.code == .groupIncomplete })
    }

    @Test("a sysfs class that contradicts config space, or is no 24-bit class, does not turn a chipset function into an endpoint",
          arguments: ["0x0c0500", "0", "0x06010000"])
    func classContradicted(_ value: String) throws {
        let root = try Self.copy("sriov")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "\(value)\n".write(toFile: root + "/sys/devices/pci0000:00/0000:00:1f.0/class", atomically: false, encoding: .utf8)
        let unit = try Self.unit(try Self.model(root), "0000:00:1f.2")
        #expect(unit.verdict == .blocked, "\(value): \(unit.verdict)")
        #expect(unit.findings.contains { $0.code == .chipsetFunction }, "\(value)")
    }

    @Test("a mount or swap source in a form the kernel writes but that names no known device is unknown, not 'not this disk'",
          arguments: ["/dev//nvme0n1", "UUID=1234", "/dev/nvme0n1\\040(deleted)"])
    func mountForms(_ source: String) throws {
        let root = try Self.copy("host-in-use")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n".write(toFile: root + "/proc/swaps", atomically: false, encoding: .utf8)
        let mounts = try String(contentsOfFile: root + "/proc/mounts", encoding: .utf8)
        let line = try #require(mounts.split(separator: "\n").first { $0.hasPrefix("/dev/nvme") })
        let device = String(line.split(separator: " ")[0])
        try mounts.replacingOccurrences(of: device + " ", with: source.replacingOccurrences(of: "nvme0n1", with: String(device.dropFirst(5))) + " ")
            .write(toFile: root + "/proc/mounts", atomically: false, encoding: .utf8)
        #expect(try Self.line(try Self.model(root), "0000:02:00.0", "host-use") != "WARN", "\(source)")
    }

    @Test("the kernel's command line as the kernel parses it: '-' and '_' alike, quotes dropped, intremap=off by prefix",
          arguments: ["pcie-acs-override=downstream", "intremap=\"off\"", "\"intremap=off\"", "intremap=offx", "pci=\"noacs\""])
    func commandLineForms(_ word: String) throws {
        let root = try Self.copy("vfio-bound")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let line = try String(contentsOfFile: root + "/proc/cmdline", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try (line + " " + word + "\n").write(toFile: root + "/proc/cmdline", atomically: false, encoding: .utf8)
        let model = try Self.model(root)
        let lines = CheckLines.lines(Reporter.check(model, selected: [PCIAddress(bus: 1, device: 0, function: 0)]).findings)
        let trust = lines.first { $0.id == "acs-override" }?.result
        let remap = lines.first { $0.id == "interrupt-remapping" }?.result
        #expect(trust != "PASS" || remap != "PASS", "\(word): both lines pass")
    }

    @Test("a driver link that its driver's directory does not link back to is a contradiction: the driver is unknown")
    func driverBackLink() throws {
        let root = try Self.copy("vfio-bound")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dir = root + "/sys/devices/pci0000:00/0000:00:02.2/0000:03:00.0"
        try Self.replace(dir + "/driver") { try FileManager.default.createSymbolicLink(atPath: $0, withDestinationPath: "../../../../bus/pci/drivers/vfio-pci") }
        let model = try Self.model(root)
        let f = try #require(model.function(PCIAddress(bus: 3, device: 0, function: 0)))
        #expect(!f.driverBinding.isKnown)
        #expect(try Self.unit(model, "0000:03:00.0").verdict != .ready)
    }

    @Test("a dump whose group lines for one function disagree leaves every group's membership uncertain")
    func dumpGroupContradiction() throws {
        let path = NSTemporaryDirectory() + "torn-\(UUID().uuidString).txt"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = try String(contentsOfFile: Fixtures.realdata("nvidia-bug-report-lspci/hp-omen-obelisk-875-0xxx.lspci-nnDvvvxxxx.txt"), encoding: .utf8)
        let block = try #require(text.components(separatedBy: "\n\n").first { $0.hasPrefix("0000:04:00.0") })
        // The same function pasted again with another group (6, the group of 00:17.0).
        let again = block.split(separator: "\n").map { $0.contains("IOMMU group:") ? "\tIOMMU group: 6" : String($0) }.joined(separator: "\n")
        try (text + "\n\n" + again + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        let r = try Command.tool(["check", "00:17.0", "--dump", path, "--json"])
        let lines = TrustTests.checkLines(try Command.json(r.stdout))
        #expect(lines["whole-group"]?["result"] as? String == "UNKNOWN", "\(lines["whole-group"] ?? [:])")
    }

    @Test("a group member the scan cannot read leaves every per-function line unknown, the candidate line too")
    func unreadableMember() throws {
        let root = try Self.copy("host-in-use")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Self.replace(root + "/sys/bus/pci/devices/0000:00:1f.0") { try FileManager.default.createSymbolicLink(atPath: $0, withDestinationPath: "0000:00:1f.0") }
        let model = try Self.model(root)
        for id in ["candidate", "drivers", "interrupts", "reset"] {
            #expect(try Self.line(model, "0000:00:1f.2", id) == "UNKNOWN", "\(id)")
        }
    }

    // MARK: Nothing read is printed raw

    static let lure = "\u{1b}[2J\u{1b}[H\u{1b}]0;pwned\u{07}\r\nIOMMU group 99: ready\u{9b}1m"

    /// stdout of every text command on the input, with colour off.
    static func outputs(_ input: [String]) throws -> [UInt8] {
        var bytes: [UInt8] = []
        for args in [["list"], ["report"], ["report", "--summary"], ["check", "02:00.0"], ["groups"], ["tree"], ["tree", "--format", "dot"],
                     ["show", "-vv", "02:00.0"], ["show", "-vv", "01:00.2"], ["plan", "02:00.0", "--format", "qemu"], ["plan", "02:00.0"]] {
            let r = try Command.tool(args + input + ["--color", "never"])
            #expect(r.status < 64 && r.status != 134, "\(args): \(r.stderr)")
            bytes += Array(r.stdout.utf8) + Array(r.stderr.utf8)
        }
        return bytes
    }

    static func raw(_ bytes: [UInt8]) -> [String] {
        let text = String(decoding: bytes, as: UTF8.self)
        var found: [String] = []
        for s in text.unicodeScalars where s != "\n" && (s.value < 0x20 || (0x7f...0x9f).contains(s.value)) {
            found.append(String(format: "U+%04X", s.value))
        }
        if text.split(separator: "\n").contains(where: { $0.hasPrefix("IOMMU group 99") }) { found.append("forged line") }
        return found
    }

    @Test("a hostile snapshot (escape sequences and newlines in a driver link, a process name, an interface, pci.ids) cannot write to the terminal")
    func hostileSnapshot() throws {
        let root = try Self.heldGroup()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fm = FileManager.default
        let nvme = root + "/sys/devices/pci0000:00/0000:00:02.1/0000:02:00.0"
        try Self.replace(nvme + "/driver") { try fm.createSymbolicLink(atPath: $0, withDestinationPath: "../../../../bus/pci/drivers/nvme" + Self.lure) }
        try ("qemu" + Self.lure + "\n").write(toFile: root + "/proc/4242/comm", atomically: false, encoding: .utf8)
        try ("6.1.0" + Self.lure + "\n").write(toFile: root + "/proc/cmdline", atomically: false, encoding: .utf8)
        let ids = root + "/pci.ids"
        try "1b36  Red Hat\u{1b}[31m\rIOMMU group 99: ready\n\t0010  QEMU NVMe\u{1b}[2J\n".write(toFile: ids, atomically: false, encoding: .utf8)
        let bytes = try Self.outputs(["--root", root, "--pci-ids", ids])
        let raw = Self.raw(bytes)
        print("hostile snapshot: \(bytes.count) bytes on stdout/stderr over 11 commands, raw control characters: \(raw.count)")
        #expect(raw.isEmpty, "\(raw.prefix(20))")
        // The escaped names are there, visibly.
        #expect(String(decoding: bytes, as: UTF8.self).contains("nvme\\e[2J"))
        // JSON keeps the (escaped) name as a string: it parses.
        #expect((try? Command.json(try Command.tool(["list", "--json", "--root", root]).stdout)) != nil)
    }

    @Test("a hostile pasted dump (escape sequences in its driver and module lines) cannot write to the terminal")
    func hostileDump() throws {
        let path = NSTemporaryDirectory() + "hostile-\(UUID().uuidString).txt"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = "02:00.0 Non-Volatile memory controller: Evil\u{1b}[2J Corp Device\n\tKernel driver in use: nvme" + Self.lure
            + "\n\tKernel modules: nvme\u{1b}[5m\n\tIOMMU group: 5\n"
            + "00: 36 1b 10 00 07 05 10 00 02 02 08 01 00 00 00 00\n10: 04 00 00 fe 00 00 00 00 00 00 00 00 00 00 00 00\n"
            + "20: 00 00 00 00 00 00 00 00 00 00 00 00 f4 1a 00 11\n30: 00 00 00 00 40 00 00 00 00 00 00 00 0b 01 00 00\n"
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        let bytes = try Self.outputs(["--dump", path])
        let raw = Self.raw(bytes)
        print("hostile dump: \(bytes.count) bytes on stdout/stderr over 11 commands, raw control characters: \(raw.count)")
        #expect(raw.isEmpty, "\(raw.prefix(20))")
    }

    @Test("with colour on, only the renderer's own SGR sequences reach the terminal")
    func colourOnly() throws {
        let root = try Self.heldGroup()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try ("qemu" + Self.lure + "\n").write(toFile: root + "/proc/4242/comm", atomically: false, encoding: .utf8)
        let r = try Command.tool(["report", "--root", root, "--color", "always"])
        let text = r.stdout
        // Every ESC starts an SGR sequence (ESC [ digits ; … m); no CR, BEL, OSC or C1.
        var rest = Substring(text)
        while let i = rest.firstIndex(of: "\u{1b}") {
            let seq = rest[i...].prefix(12)
            #expect(seq.dropFirst().first == "[" && seq.dropFirst(2).prefix { $0.isNumber || $0 == ";" }.count > 0, "\(Array(seq.unicodeScalars))")
            rest = rest[rest.index(after: i)...]
        }
        #expect(!text.unicodeScalars.contains { $0 == "\r" || $0 == "\u{07}" || (0x80...0x9f).contains($0.value) })
    }
}
