import Foundation
import PCIHost
import Testing
import TestSupport
import VFIOAnalysis

/// The kernel's `pci_device_group`, replayed on config space, against the groups the real kernel made.
@Suite("Group prediction")
struct GroupPredictionTests {
    func model(_ root: String) throws -> HostModel {
        try SysfsScanner(root: HostRoot(root), options: ScanOptions(decodeCapabilities: true)).scan()
    }

    @Test("predicted groups equal groups.txt", arguments: Fixtures.sysfsNames)
    func matchesKernel(_ name: String) throws {
        let m = try model(Fixtures.sysfs(name))
        let prediction = GroupPredictor.predict(m)
        let kernel = try Fixtures.kernelGroups(name)
        if kernel.isEmpty {
            #expect(prediction.matchesKernel == nil)
            return
        }
        let grouped = Set(kernel.flatMap { $0 })
        let predicted = Set(prediction.groups.map { Set($0.members.map(\.description).filter(grouped.contains)) }.filter { !$0.isEmpty })
        #expect(predicted == kernel)
        #expect(prediction.matchesKernel == true)
        #expect(prediction.uncertainties.isEmpty, "\(prediction.uncertainties)")
    }

    @Test("each shared group names the cause the fixture was built with", arguments: [
        ("switch", "0000:03:00.0", "acs-missing", "0000:02:00.0"),
        ("multifunction", "0000:01:00.2", "multifunction-without-acs", "0000:01:00.2"),
        ("pcie-pci-bridge", "0000:02:03.0", "pci-bridge-alias", "0000:01:00.0"),
        ("pcie-pci-bridge", "0000:03:01.0", "pci-bridge-alias", "0000:02:05.0"),
        ("rp-acs", "0000:00:1f.2", "multifunction-without-acs", "0000:00:1f.2"),
    ])
    func causes(_ name: String, _ member: String, _ kind: String, _ at: String) throws {
        let prediction = GroupPredictor.predict(try model(Fixtures.sysfs(name)))
        let address = try #require(PCIAddress(sysfsName: member))
        let group = try #require(prediction.group(of: address))
        #expect(group.causes.contains { $0.kind.rawValue == kind && $0.at?.description == at }, "\(group.causes)")
    }

    @Test("the switch's downstream ports lack every required ACS flag")
    func missingFlags() throws {
        let prediction = GroupPredictor.predict(try model(Fixtures.sysfs("switch")))
        let group = try #require(prediction.group(of: PCIAddress(bus: 4, device: 0, function: 0)))
        #expect(group.members.map(\.description) == ["0000:02:01.0", "0000:04:00.0"])
        #expect(group.causes.first?.missingACS == ["SrcValid", "ReqRedir", "CmpltRedir", "UpstreamFwd"])
    }

    @Test("1,036 functions: 1,034 groups predicted, equal to the kernel's")
    func large() throws {
        let (root, scratch) = try Fixtures.largeSnapshot("large")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let m = try model(root)
        #expect(m.functions.count == 1036)
        let prediction = GroupPredictor.predict(m)
        #expect(prediction.groups.count == 1034)
        #expect(prediction.matchesKernel == true)
    }
}

@Suite("groups command")
struct GroupsCommandTests {
    @Test("groups --json: kernel groups with why, predicted groups, agreement", arguments: Fixtures.sysfsNames)
    func json(_ name: String) throws {
        let r = try Command.tool(["groups", "--root", Fixtures.sysfs(name), "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try Command.json(r.stdout)
        let kernel = try Fixtures.kernelGroups(name)
        let groups = try #require(json["groups"] as? [[String: Any]])
        #expect(Set(groups.compactMap { ($0["members"] as? [String]).map(Set.init) }) == kernel)
        for g in groups where (g["members"] as? [String])?.count ?? 0 > 1 {
            let why = try #require(g["why"] as? [[String: Any]])
            #expect(!why.isEmpty && why.allSatisfy { ["acs-missing", "multifunction-without-acs", "pci-bridge-alias"].contains($0["kind"] as? String ?? "") })
        }
        #expect(json["predictedGroups"] is [Any])
        if kernel.isEmpty {
            #expect(json["groupPredictionMatches"] is NSNull)
            #expect(json["iommuEnabled"] as? Bool == false)
        } else {
            #expect(json["groupPredictionMatches"] as? Bool == true)
        }
    }
}

@Suite("Generated snapshots (Scripts/make-large-snapshot)")
struct GeneratedSnapshotTests {
    @Test("a generated snapshot of real functions (sriov, switch, multifunction and no-ACS units) predicts exactly the groups it was generated with",
          arguments: [60, 300])
    func generated(_ n: Int) throws {
        let python = try #require(Command.which("python3"))
        let dir = try Fixtures.temporaryDirectory("generated")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Scripts/make-large-snapshot").path
        let snapshot = dir + "/snapshot"
        let made = try Command.run(python, [script, String(n), snapshot])
        #expect(made.status == 0, "\(made.stderr)")
        let truth = Set(try String(contentsOfFile: snapshot + "/groups.txt", encoding: .utf8).split(separator: "\n")
            .map { Set($0.split(separator: ":", maxSplits: 1)[1].split(separator: " ").map(String.init)) })
        let json = try Command.json(try Command.tool(["groups", "--json", "--root", snapshot]).stdout)
        let predicted = Set(((json["predictedGroups"] as? [[String: Any]]) ?? []).compactMap { ($0["members"] as? [String]).map(Set.init) })
        #expect(predicted == truth)
        #expect(json["groupPredictionMatches"] as? Bool == true)
        let list = try Command.json(try Command.tool(["list", "--json", "--root", snapshot]).stdout)
        let functions = (list["functions"] as? [[String: Any]]) ?? []
        #expect(functions.count == n)
        #expect(functions.allSatisfy { ($0["diagnostics"] as? [Any])?.isEmpty ?? true })
    }
}
