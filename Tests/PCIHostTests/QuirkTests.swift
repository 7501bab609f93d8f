import Foundation
import PCIHost
import Testing
import TestSupport
import VFIOAnalysis

/// The kernel's ACS exceptions for Intel PCH root ports (drivers/pci/quirks.c), checked on real machines' dumps.
@Suite("Intel PCH ACS quirks")
struct QuirkTests {
    @Test("pci_quirk_intel_spt_pch_acs: a 200-series (Union Point) root port keeps its ACS control at + 8; the ecs-h310ch5 groups are predicted as the kernel made them")
    func unionPointRootPort() throws {
        let path = Fixtures.realdata("coreboot-autoport-logs/ecs-h310ch5.lspci-nnvvvxxxx.txt")
        let model = try DumpScanner(path: path, options: ScanOptions(decodeCapabilities: true)).scan()
        let port = try #require(model.function(PCIAddress(bus: 0, device: 0x1c, function: 0)))
        #expect(port.deviceID == 0xa294)
        // lspci (and the specification) read the control word at + 6, where this port shows nothing enabled.
        let acs = try #require(port.config?.acs)
        #expect(acs.control.isEmpty)
        let verdict = ACSPolicy().evaluate(port)
        #expect(verdict.isIsolated, "\(verdict)")
        let prediction = GroupPredictor.predict(model)
        #expect(prediction.matchesKernel == true, "\(prediction.unexplainedKernelGroups)")
        #expect(prediction.group(of: PCIAddress(bus: 2, device: 0, function: 0))?.members == [PCIAddress(bus: 2, device: 0, function: 0)])
    }

    @Test("pci_quirk_intel_spt_pch_acs: with the dword at + 8 cleared, the same port does not isolate")
    func unionPointControlCleared() throws {
        let text = try String(contentsOfFile: Fixtures.realdata("coreboot-autoport-logs/ecs-h310ch5.lspci-nnvvvxxxx.txt"), encoding: .utf8)
        let model = try DumpScanner(path: Fixtures.realdata("coreboot-autoport-logs/ecs-h310ch5.lspci-nnvvvxxxx.txt"), options: ScanOptions(decodeCapabilities: true)).scan()
        let port = try #require(model.function(PCIAddress(bus: 0, device: 0x1c, function: 0)))
        let offset = try #require(port.config?.extendedCapabilities.first { $0.id == .accessControlServices }?.offset)
        // Rewrite the port's dump row that holds capability + 8 with zeros there.
        let rowOffset = (offset + 8) & ~0xf
        let start = try #require(text.range(of: "\n00:1c.0 "))
        let rowPrefix = String(format: "%03x: ", rowOffset)
        let rowRange = try #require(text.range(of: "\n" + rowPrefix, range: start.upperBound..<text.endIndex))
        let lineEnd = try #require(text.range(of: "\n", range: rowRange.upperBound..<text.endIndex))
        var bytes = text[rowRange.upperBound..<lineEnd.lowerBound].split(separator: " ").map(String.init)
        let at = (offset + 8) - rowOffset
        for i in at..<(at + 4) { bytes[i] = "00" }
        let edited = text.replacingCharacters(in: rowRange.upperBound..<lineEnd.lowerBound, with: bytes.joined(separator: " "))
        let r = try Command.run(Command.toolPath, ["groups", "--dump", "-", "--json"], input: edited)
        let json = try Command.json(r.stdout)
        #expect(json["groupPredictionMatches"] as? Bool == false)
        let predicted = (json["predictedGroups"] as? [[String: Any]]) ?? []
        #expect(predicted.contains { ($0["members"] as? [String]) == ["0000:00:1c.0", "0000:02:00.0"] })
    }

    @Test("pci_quirk_intel_pch_acs: a 7-series (Panther Point) root port is isolated only if the boot-time workaround worked: uncertain, saying what to look for")
    func pantherPointRootPort() throws {
        let path = Fixtures.realdata("coreboot-autoport-logs/intel-dh77df.lspci-nnvvvxxxx.txt")
        let model = try DumpScanner(path: path, options: ScanOptions(decodeCapabilities: true)).scan()
        let port = try #require(model.function(PCIAddress(bus: 0, device: 0x1c, function: 0)))
        #expect((0x1e10...0x1e1f).contains(port.deviceID))
        guard case let .unknown(u) = ACSPolicy().evaluate(port) else {
            Issue.record("expected unknown")
            return
        }
        #expect(u.reason.contains("pci_quirk_intel_pch_acs"))
        #expect(u.remedy.contains("Intel PCH root port ACS workaround enabled"))
        let prediction = GroupPredictor.predict(model)
        let below = model.functions.filter { $0.upstream.first == port.address }
        for f in below {
            #expect(prediction.group(of: f.address)?.isCertain == false)
        }
    }
}

/// The kernel's reset exceptions (drivers/pci/quirks.c), where reset methods are read from config space.
@Suite("Reset quirks")
struct ResetQuirkTests {
    static func reset(_ dump: String, _ address: PCIAddress) throws -> ResetCapability {
        let model = try DumpScanner(path: Fixtures.realdata(dump), options: ScanOptions(decodeCapabilities: true)).scan()
        let f = try #require(model.function(address))
        return ResetRules.capability(f, model)
    }

    @Test("quirk_no_flr: the Matisse HD Audio advertises FLR, which the kernel never uses (it hangs): no PASS from that FLR")
    func matisseAudioNoFLR() throws {
        let dump = "nvidia-bug-report-lspci/msi-b550m-pro-vdh-wifi.lspci-nnDvvvxxxx.txt"
        let capability = try Self.reset(dump, PCIAddress(bus: 0x2c, device: 0, function: 4))
        #expect(capability.methods.value?.contains("flr") == false)
        #expect(capability.methods.evidence?.contains("quirk_no_flr") == true)
        let check = try Command.json(try Command.tool(["check", "--dump", Fixtures.realdata(dump), "2c:00.4", "--json"]).stdout)
        let reset = (check["checks"] as? [[String: Any]])?.first { $0["id"] as? String == "reset" }
        #expect(reset?["result"] as? String != "PASS")
    }

    @Test("quirk_no_bus_reset: an Atheros QCA988x bars the secondary bus reset below its port")
    func atherosNoBusReset() throws {
        let capability = try Self.reset("pciutils-tests/tree-fsl-p2020", PCIAddress(bus: 5, device: 0, function: 0))
        #expect(capability.methods.value?.contains("bus") == false)
        #expect(capability.hotResetThrough == nil)
        #expect(capability.methods.evidence?.contains("quirk_no_bus_reset") == true)
    }
}

@Suite("Multifunction endpoint ACS quirk")
struct MultifunctionEndpointQuirkTests {
    @Test("pci_quirk_mf_endpoint_acs: an Intel 82576 counts as isolated though it has no ACS capability")
    func intel82576() throws {
        let model = try DumpScanner(path: Fixtures.realdata("pciutils-tests/cap-pcie-2"), options: ScanOptions(decodeCapabilities: true)).scan()
        let nic = try #require(model.functions.first { $0.vendorID == 0x8086 && $0.deviceID == 0x10c9 })
        #expect(nic.config?.acs == nil)
        guard case let .isolated(why) = ACSPolicy().evaluate(nic) else {
            Issue.record("expected isolated by quirk")
            return
        }
        #expect(why.contains("pci_quirk_mf_endpoint_acs"))
    }
}

/// The other vendors' rows of `pci_dev_acs_enabled[]`, DMA-alias quirks and `pcie_acs_override`, replayed on
/// real kernels' snapshots whose IDs are changed to the quirk's (sysfs `vendor`/`device` and config bytes 0–3).
@Suite("Vendor ACS and DMA-alias quirks")
struct VendorQuirkTests {
    /// Gives `address` of a scratch copy of `fixture` the IDs `vendor`:`device`, as sysfs and config space show them.
    static func withIDs(_ fixture: String, _ changes: [(String, UInt16, UInt16)], cmdline: String? = nil) throws -> String {
        let root = try Fixtures.scratchCopy(of: fixture)
        for (address, vendor, device) in changes {
            let dir = root + "/sys/bus/pci/devices/" + address
            try Fixtures.replace(dir + "/vendor", withText: String(format: "0x%04x\n", vendor))
            try Fixtures.replace(dir + "/device", withText: String(format: "0x%04x\n", device))
            try? FileManager.default.removeItem(atPath: dir + "/modalias") // else modalias names the old IDs
            let config = try FileHandle(forUpdating: URL(fileURLWithPath: dir + "/config"))
            try config.write(contentsOf: Data([UInt8(vendor & 0xff), UInt8(vendor >> 8), UInt8(device & 0xff), UInt8(device >> 8)]))
            try config.close()
        }
        if let cmdline { try Fixtures.replace(root + "/proc/cmdline", withText: cmdline + "\n") }
        return root
    }

    static func groups(_ root: String) throws -> [[String]] {
        let json = try Command.json(try Command.tool(["groups", "--json", "--root", root]).stdout)
        return ((json["predictedGroups"] as? [[String: Any]]) ?? []).compactMap { $0["members"] as? [String] }
    }

    /// The `why` explanations of the predicted group holding `address`, joined.
    static func explanations(_ root: String, of address: String) throws -> String {
        let json = try Command.json(try Command.tool(["groups", "--json", "--root", root]).stdout)
        let group = ((json["predictedGroups"] as? [[String: Any]]) ?? []).first { ($0["members"] as? [String])?.contains(address) == true }
        return ((group?["why"] as? [[String: Any]]) ?? []).compactMap { $0["explanation"] as? String }.joined(separator: "\n")
    }

    /// A real machine's dump with the IDs of one function changed in its first hex row.
    static func dump(_ relative: String, _ address: String, vendor: UInt16, device: UInt16) throws -> String {
        let text = try String(contentsOfFile: Fixtures.realdata(relative), encoding: .utf8)
        let start = try #require(text.range(of: "\n" + address + " "))
        let row = try #require(text.range(of: "\n00: ", range: start.upperBound..<text.endIndex))
        let bytes = String(format: "%02x %02x %02x %02x", vendor & 0xff, vendor >> 8, device & 0xff, device >> 8)
        return text.replacingCharacters(in: row.upperBound..<text.index(row.upperBound, offsetBy: 11), with: bytes)
    }

    @Test("pci_quirk_zhaoxin_pcie_ports_acs: a listed Zhaoxin root port isolates; one outside the list does not, despite its working ACS")
    func zhaoxinPorts() throws {
        let listed = try Self.withIDs("rp-acs", [("0000:00:02.0", 0x1d17, 0x0717)])
        defer { try? FileManager.default.removeItem(atPath: listed) }
        #expect(try Self.groups(listed).contains(["0000:01:00.0"]))
        let unlisted = try Self.withIDs("rp-acs", [("0000:00:02.0", 0x1d17, 0x071f)])
        defer { try? FileManager.default.removeItem(atPath: unlisted) }
        #expect(try Self.groups(unlisted).contains(["0000:00:02.0", "0000:01:00.0"]))
        let why = try Self.explanations(unlisted, of: "0000:01:00.0")
        #expect(why.contains("pci_quirk_zhaoxin_pcie_ports_acs"))
        #expect(!why.contains("without an ACS capability"))
    }

    @Test("pci_quirk_wangxun_nic_acs: functions of a listed Wangxun NIC are isolated from each other; an unlisted one's are not")
    func wangxun() throws {
        let functions = ["0000:01:00.0", "0000:01:00.1", "0000:01:00.2", "0000:01:00.3"]
        let before = try Self.groups(Fixtures.sysfs("multifunction"))
        #expect(before.contains(functions)) // no ACS on the slot: one group, as the kernel made it
        let listed = try Self.withIDs("multifunction", functions.map { ($0, 0x8088, 0x1001) })
        defer { try? FileManager.default.removeItem(atPath: listed) }
        let split = try Self.groups(listed)
        for f in functions { #expect(split.contains([f])) }
        let unlisted = try Self.withIDs("multifunction", functions.map { ($0, 0x8088, 0x0200) })
        defer { try? FileManager.default.removeItem(atPath: unlisted) }
        #expect(try Self.groups(unlisted).contains(functions))
    }

    @Test("Cavium, X-Gene/Ampere, Broadcom, Loongson, NXP and Qualcomm root ports without ACS isolate; other IDs of those vendors do not",
          arguments: [(0x177d, 0xa0ff, true), (0x177d, 0xaf84, true), (0x177d, 0xb000, false), (0x1def, 0xe00a, true), (0x14e4, 0xd714, true),
                      (0x0014, 0x7a19, true), (0x1957, 0x8d9b, true), (0x17cb, 0x0115, true), (0x1dbf, 0x0401, true), (0x1957, 0x8d00, false)])
    func vendorRootPorts(_ vendor: Int, _ device: Int, _ isolates: Bool) throws {
        // A real desktop's root port 00:01.0 (Intel 8086:1901) has no ACS capability: the switch below shares its group.
        let relative = "jailhouse-config-collect/lenovo-thinkcentre-90g0-i5-7500.sysfs-config.lspci-xxxx.txt"
        func predicted(_ text: String) throws -> [[String]] {
            let r = try Command.run(Command.toolPath, ["groups", "--json", "--dump", "-"], input: text)
            return ((try Command.json(r.stdout)["predictedGroups"] as? [[String: Any]]) ?? []).compactMap { $0["members"] as? [String] }
        }
        let original = try predicted(try String(contentsOfFile: Fixtures.realdata(relative), encoding: .utf8))
        #expect(original.contains { $0.contains("0000:00:01.0") && $0.contains("0000:01:00.0") })
        let groups = try predicted(try Self.dump(relative, "0000:00:01.0", vendor: UInt16(vendor), device: UInt16(device)))
        let joined = groups.contains { $0.contains("0000:00:01.0") && $0.contains("0000:01:00.0") }
        #expect(joined == !isolates, "\(String(format: "%04x:%04x", vendor, device))")
    }

    @Test("pcie_acs_override as the patch defines it: downstream isolates ports without ACS; multifunction the slot; id: one device; never a device with an ACS capability")
    func acsOverride() throws {
        let plain = try Self.groups(Fixtures.sysfs("switch"))
        let down = try Self.withIDs("switch", [], cmdline: "console=ttyS0 intel_iommu=on pcie_acs_override=downstream")
        defer { try? FileManager.default.removeItem(atPath: down) }
        let downGroups = try Self.groups(down)
        #expect(downGroups != plain)
        for endpoint in ["0000:03:00.0", "0000:04:00.0", "0000:05:00.0"] { #expect(downGroups.contains([endpoint]), "\(endpoint)") }
        let report = try Command.json(try Command.tool(["report", "--json", "--root", down]).stdout)
        let codes = ((report["host"] as? [String: Any])?["findings"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        #expect(codes.contains("acs-override"))
        let mf = try Self.withIDs("multifunction", [], cmdline: "console=ttyS0 intel_iommu=on pcie_acs_override=multifunction")
        defer { try? FileManager.default.removeItem(atPath: mf) }
        for f in ["0000:01:00.0", "0000:01:00.1", "0000:01:00.2", "0000:01:00.3"] { #expect(try Self.groups(mf).contains([f])) }
        // rp-acs: its root ports have an ACS capability; the override never touches them.
        let rp = try Self.withIDs("rp-acs", [], cmdline: "console=ttyS0 intel_iommu=on pcie_acs_override=downstream,multifunction,id:1b36:000c")
        defer { try? FileManager.default.removeItem(atPath: rp) }
        #expect(try Self.groups(rp) == (try Self.groups(Fixtures.sysfs("rp-acs"))))
    }

    @Test("quirk_dma_func1_alias on a real machine: the Marvell 88SE9170 aliases function 1, which does not exist: nothing changes")
    func ghostFunctionOne() throws {
        let dump = Fixtures.realdata("linux-pci-mailing-list/arm-neoverse-n1sdp.lspci-vvxxx.txt")
        let model = try DumpScanner(path: dump, options: ScanOptions(decodeCapabilities: true)).scan()
        let marvell = try #require(model.function(PCIAddress(bus: 6, device: 0, function: 0)))
        let alias = try #require(DMAAliasQuirks.aliases(of: marvell))
        #expect(alias.quirk == "quirk_dma_func1_alias")
        let prediction = GroupPredictor.predict(model)
        #expect(!(prediction.group(of: marvell.address)?.causes.contains { $0.kind == .dmaAliasQuirk } ?? true))
    }

    @Test("quirk_dma_func0_alias: a Ricoh function above 0 shares function 0's group even where ACS would split the slot")
    func ricohFunctionZero() throws {
        let functions = ["0000:01:00.0", "0000:01:00.1", "0000:01:00.2", "0000:01:00.3"]
        // Wangxun 8088:1001 makes the slot's functions isolated; a Ricoh 1180:e832 at 01:00.2 aliases 01:00.0.
        let isolated = try Self.withIDs("multifunction", functions.map { ($0, 0x8088, 0x1001) })
        defer { try? FileManager.default.removeItem(atPath: isolated) }
        #expect(try Self.groups(isolated).contains(["0000:01:00.2"]))
        let mixed = try Self.withIDs("multifunction", [("0000:01:00.0", 0x8088, 0x1001), ("0000:01:00.1", 0x8088, 0x1001),
                                                       ("0000:01:00.2", 0x1180, 0xe832), ("0000:01:00.3", 0x8088, 0x1001)])
        defer { try? FileManager.default.removeItem(atPath: mixed) }
        let groups = try Self.groups(mixed)
        #expect(groups.contains(["0000:01:00.0", "0000:01:00.2"]), "\(groups)")
        #expect(try Self.explanations(mixed, of: "0000:01:00.2").contains("quirk_dma_func0_alias"))
    }

    @Test("Switchtec NTB (class 0680): its aliases come from device memory, so a group it could alias into is uncertain, never certain")
    func switchtecNTB() throws {
        let dump = Fixtures.realdata("jailhouse-config-collect/lenovo-thinkcentre-90g0-i5-7500.sysfs-config.lspci-xxxx.txt")
        let model = try DumpScanner(path: dump, options: ScanOptions(decodeCapabilities: true)).scan()
        let ntb = try #require(model.function(PCIAddress(bus: 1, device: 0, function: 1)))
        #expect(DMAAliasQuirks.aliases(of: ntb)?.quirk == "quirk_switchtec_ntb_dma_alias")
    }

    @Test("kernel rule sets: 6.11.0–6.11.6 lost the Intel PCH ACS workaround; 5.9 may have; others replay mainline",
          arguments: [("6.11.3", "pch-acs-quirk-lost"), ("6.11.3-arch1-1", "pch-acs-quirk-maybe-lost"), ("6.11.0-19-generic", "pch-acs-quirk-maybe-lost"),
                      ("6.11.7", "mainline"), ("5.9.1-1-default", "pch-acs-quirk-maybe-lost"),
                      ("6.1.0-57-amd64", "mainline"), ("5.10.0-30-amd64", "mainline")])
    func ruleSets(_ release: String, _ expected: String) throws {
        #expect(KernelRuleSet(release: release).name == expected)
        let dump = Fixtures.realdata("coreboot-autoport-logs/intel-dh77df.lspci-nnvvvxxxx.txt")
        let model = try DumpScanner(path: dump, options: ScanOptions(decodeCapabilities: true)).scan()
        let port = try #require(model.function(PCIAddress(bus: 0, device: 0x1c, function: 0)))
        let verdict = ACSPolicy(context: ACSContext(rules: KernelRuleSet(release: release))).evaluate(port)
        switch expected {
        case "pch-acs-quirk-lost": #expect(!verdict.isIsolated && verdict.unknownFact == nil)
        default: #expect(verdict.unknownFact != nil)
        }
    }
}

/// Intel VMD on a real machine: every function of the VMD's domain (10000) issues DMA as the VMD endpoint.
@Suite("Intel VMD")
struct VMDTests {
    @Test("Dell Precision 5820: the root ports and NVMe drive of domain 10000 share the VMD endpoint's predicted group")
    func vmdDomain() throws {
        let dump = Fixtures.realdata("nvidia-bug-report-lspci/dell-precision-5820-tower.lspci-nnDvvvxxxx.txt")
        let model = try DumpScanner(path: dump, options: ScanOptions(decodeCapabilities: true)).scan()
        let vmd = try #require(model.function(PCIAddress(domain: 0, bus: 0xb2, device: 5, function: 5)))
        #expect(DMAAliasQuirks.isVMDEndpoint(vmd))
        let behind = model.functions.filter { $0.address.domain == 0x10000 }
        #expect(behind.count == 3)
        let prediction = GroupPredictor.predict(model)
        let group = try #require(prediction.group(of: vmd.address))
        for f in behind {
            #expect(group.members.contains(f.address), "\(f.address)")
        }
        #expect(group.causes.contains { $0.kind == .dmaAliasQuirk && $0.explanation.contains("pci_real_dma_dev") })
    }
}

@Suite("AMD southbridge and ACS command-line options")
struct SouthbridgeAndParameterTests {
    @Test("pci_quirk_amd_sb_acs: southbridge functions on a root bus are isolated only with an IVRS table; without the table in the input, UNKNOWN")
    func amdSouthbridge() throws {
        let root = try VendorQuirkTests.withIDs("switch", [("0000:00:1f.2", 0x1002, 0x4385), ("0000:00:1f.3", 0x1002, 0x439c)])
        defer { try? FileManager.default.removeItem(atPath: root) }
        // The snapshot has no sys/firmware: whether an IVRS table exists is unknown, so the slot's grouping is too.
        let unknown = try Command.json(try Command.tool(["groups", "--json", "--root", root]).stdout)
        let uncertain = ((unknown["predictedGroups"] as? [[String: Any]]) ?? []).first { ($0["members"] as? [String])?.contains("0000:00:1f.2") == true }
        #expect(uncertain?["certain"] as? Bool == false)
        #expect(((uncertain?["unknown"] as? [[String: Any]]) ?? []).contains { ($0["reason"] as? String)?.contains("IVRS") == true })
        try FileManager.default.createDirectory(atPath: root + "/sys/firmware/acpi/tables", withIntermediateDirectories: true)
        let withoutIVRS = try VendorQuirkTests.groups(root)
        #expect(withoutIVRS.contains(["0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3"]))
        try Fixtures.replace(root + "/sys/firmware/acpi/tables/IVRS", withText: "IVRS")
        let withIVRS = try VendorQuirkTests.groups(root)
        #expect(withIVRS.contains(["0000:00:1f.2"]) && withIVRS.contains(["0000:00:1f.3"]))
    }

    @Test("pci=config_acs= and pci=disable_acs_redir= are explained flag by flag; what the kernel cannot parse is named")
    func acsParameters() throws {
        let root = try VendorQuirkTests.withIDs("switch", [], cmdline: "console=ttyS0 intel_iommu=on pci=config_acs=1x0x1@pci:0:0;zz@0000:02:00.0,disable_acs_redir=0000:02:01.0")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let json = try Command.json(try Command.tool(["report", "--json", "--root", root]).stdout)
        let findings = ((json["host"] as? [String: Any])?["findings"] as? [[String: Any]] ?? []).filter { $0["code"] as? String == "acs-configured" }
        #expect(findings.count == 2)
        let config = findings.compactMap { $0["message"] as? String }.first { $0.hasPrefix("pci=config_acs") } ?? ""
        #expect(config.contains("pci:0:0: set SV UF, clear RR"), "\(config)")
        #expect(config.contains("cannot parse: zz@0000:02:00.0"))
        let redir = findings.compactMap { $0["message"] as? String }.first { $0.hasPrefix("pci=disable_acs_redir") } ?? ""
        #expect(redir.contains("0000:02:01.0: clear RR CR EC"))
    }
}

/// Review findings on the kernel's rules: ACS controls without an IOMMU, the denylist's bypasses, repeated options.
@Suite("ACS controls, denylist bypass, repeated command-line options")
struct KernelRuleReviewTests {
    @Test("a dump without group lines (IOMMU state unknown): ports whose implemented ACS controls are off make their groups uncertain, never certain")
    func acsControlsWithoutIOMMU() throws {
        let dump = Fixtures.realdata("nvidia-bug-report-lspci/asus-ws-x299-sage-plx.lspci-nnDvvvxxxx.txt")
        let json = try Command.json(try Command.tool(["groups", "--json", "--dump", dump]).stdout)
        let group = ((json["predictedGroups"] as? [[String: Any]]) ?? []).first { ($0["members"] as? [String])?.contains("0000:16:00.0") == true }
        #expect(group?["certain"] as? Bool == false)
        #expect(((group?["unknown"] as? [[String: Any]]) ?? []).contains { ($0["reason"] as? String)?.contains("IOMMU") == true })
    }

    @Test("a snapshot of a host with the IOMMU off: the implemented ACS controls count as the kernel will set them once it is on")
    func acsControlsIOMMUOff() throws {
        let json = try Command.json(try Command.tool(["groups", "--json", "--root", Fixtures.sysfs("no-iommu")]).stdout)
        let groups = ((json["predictedGroups"] as? [[String: Any]]) ?? [])
        #expect(groups.allSatisfy { $0["certain"] as? Bool == true })
    }

    @Test("vfio-pci's denylist: bound to vfio-pci already, or disable_denylist=Y, is a warning, not a block")
    func denylistBypassed() throws {
        let root = try VendorQuirkTests.withIDs("vfio-bound", [("0000:02:00.0", 0x8086, 0x37c8)])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try Command.json(try Command.tool(["check", "--json", "--root", root, "02:00.0"]).stdout)
        let drivers = (r["checks"] as? [[String: Any]])?.first { $0["id"] as? String == "drivers" }
        let finding = ((drivers?["findings"] as? [[String: Any]]) ?? []).first { $0["code"] as? String == "vfio-denylist" }
        #expect(finding?["severity"] as? String == "warn", "\(String(describing: finding))")
    }

    @Test("every pci= and pcie_acs_override= on the command line counts, not only the last")
    func repeatedOptions() throws {
        let root = try VendorQuirkTests.withIDs("switch", [], cmdline: "console=ttyS0 intel_iommu=on pci=config_acs=1x1@pci:0:0 pci=realloc pcie_acs_override=id:dead:beef pcie_acs_override=downstream")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let json = try Command.json(try Command.tool(["report", "--json", "--root", root]).stdout)
        let codes = ((json["host"] as? [String: Any])?["findings"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        #expect(codes.contains("acs-configured"))
        let groups = try VendorQuirkTests.groups(root)
        #expect(groups.contains(["0000:03:00.0"])) // downstream, from the second override
    }
}
