import Foundation
import Testing
import TestSupport

@Suite("show")
struct ShowCommandTests {
    @Test("show --json extends the list objects with capabilities, acs, sriov, pcie and reset")
    func jsonContract() throws {
        let r = try Command.tool(["show", "--root", Fixtures.sysfs("sriov"), "--json", "01:00.0", "00:02.0"])
        #expect(r.status == 0, "\(r.stderr)")
        let functions = try #require(try Command.json(r.stdout)["functions"] as? [[String: Any]])
        #expect(functions.count == 2)
        let port = try #require(functions.first { $0["address"] as? String == "0000:00:02.0" })
        let acs = try #require(port["acs"] as? [String: Any])
        let control = try #require(acs["control"] as? [String: Bool])
        #expect(control == ["sourceValidation": true, "translationBlocking": false, "requestRedirect": true, "completionRedirect": true,
                            "upstreamForwarding": true, "egressControl": false, "directTranslatedP2P": false])
        #expect((port["pcie"] as? [String: Any])?["portType"] as? String == "rootPort")
        let pf = try #require(functions.first { $0["address"] as? String == "0000:01:00.0" })
        let sriov = try #require(pf["sriov"] as? [String: Any])
        #expect(sriov["totalVFs"] as? Int == 4 && sriov["numVFs"] as? Int == 3 && sriov["vfDeviceID"] as? String == "0010")
        #expect(sriov["firstVFOffset"] as? Int == 1 && sriov["vfStride"] as? Int == 1 && sriov["vfEnable"] as? Bool == true)
        let reset = try #require(pf["reset"] as? [String: Any])
        #expect(reset["flr"] as? Bool == true && reset["kernelMethods"] as? [String] == ["flr", "bus"])
        let caps = try #require(pf["capabilities"] as? [[String: Any]])
        #expect(caps.map { $0["offset"] as? Int } == [0x40, 0x80, 0x60])
        #expect(caps.allSatisfy { $0["id"] is Int && $0["name"] is String })
        let ext = try #require(pf["extendedCapabilities"] as? [[String: Any]])
        #expect(ext.map { $0["offset"] as? Int } == [0x100, 0x120] && ext.allSatisfy { $0["version"] as? Int == 1 })
        #expect(pf["diagnostics"] is [Any] && pf["acs"] is NSNull)
    }

    @Test("text shows the sections a passthrough reader needs, and lspci-style hex dumps")
    func text() throws {
        let r = try Command.tool(["show", "--root", Fixtures.sysfs("multifunction"), "01:00.1", "-xxx"])
        #expect(r.status == 0)
        for label in ["Header:", "Position:", "Slot:", "Driver:", "IOMMU group:", "Reset:", "Interrupts:", "Capabilities"] {
            #expect(r.stdout.contains(label), "missing \(label)")
        }
        #expect(r.stdout.contains("shares 0000:01:00 with 0000:01:00.0, 0000:01:00.2, 0000:01:00.3"))
        #expect(r.stdout.split(separator: "\n").filter { $0.range(of: "^[0-9a-f]{2}: ", options: .regularExpression) != nil }.count == 16)
    }

    @Test("show works on a dump, and says so when nothing matches")
    func dumpAndNoMatch() throws {
        let path = Fixtures.realdata("pciutils-tests/cap-pcie-2")
        let r = try Command.tool(["show", "--dump", path, "01:00.0", "-x"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("Single Root I/O Virtualization") && r.stdout.contains("totalVFs=8"))
        let none = try Command.tool(["show", "--dump", path, "05:00.0"])
        #expect(none.status == 5 && none.stderr.contains("05:00.0 matches no function"))
    }
}
