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
