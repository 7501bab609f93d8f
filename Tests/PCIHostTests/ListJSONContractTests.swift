import Foundation
import Testing
import TestSupport

/// `vfio-inspect list --root FIXTURE --json`, run as a user would, against the documented contract.
@Suite("list --json contract")
struct ListJSONContractTests {
    static let requiredFunctionKeys = ["address", "vendorID", "deviceID", "classCode", "headerType", "multifunction",
                                       "driver", "iommuGroup", "physicalFunction", "virtualFunctions", "configBytesReadable"]

    @Test("every function carries the contract's keys with the contract's types", arguments: Fixtures.sysfsNames)
    func contract(_ name: String) throws {
        let result = try Command.tool(["list", "--root", Fixtures.sysfs(name), "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try Command.json(result.stdout)
        #expect(json["schemaVersion"] as? Int == 1)
        let functions = try #require(json["functions"] as? [[String: Any]])
        let addresses = functions.compactMap { $0["address"] as? String }
        #expect(addresses == addresses.sorted())
        #expect(Set(addresses) == (try Fixtures.lspciFunctions(name)))
        for f in functions {
            for key in Self.requiredFunctionKeys {
                #expect(f.keys.contains(key), "\(name) \(f["address"] ?? "?") lacks \(key)")
            }
            let address = try #require(f["address"] as? String)
            #expect(address.range(of: #"^[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$"#, options: .regularExpression) != nil)
            for key in ["vendorID", "deviceID"] {
                let v = try #require(f[key] as? String)
                #expect(v.range(of: "^[0-9a-f]{4}$", options: .regularExpression) != nil)
            }
            let cls = try #require(f["classCode"] as? String)
            #expect(cls.range(of: "^[0-9a-f]{6}$", options: .regularExpression) != nil)
            let header = try #require(f["headerType"] as? Int)
            #expect((0...127).contains(header))
            #expect(f["multifunction"] is Bool)
            #expect(f["driver"] is String || f["driver"] is NSNull)
            #expect(f["iommuGroup"] is Int || f["iommuGroup"] is NSNull)
            #expect(f["physicalFunction"] is String || f["physicalFunction"] is NSNull)
            #expect(f["virtualFunctions"] is [String])
            #expect(f["configBytesReadable"] is Int)
        }
        let groups = try #require(json["groups"] as? [[String: Any]])
        let ids = groups.compactMap { $0["id"] as? Int }
        #expect(ids == ids.sorted())
        let kernel = try Fixtures.kernelGroups(name)
        #expect(Set(groups.compactMap { ($0["members"] as? [String]).map(Set.init) }.filter { !$0.isEmpty }) == kernel)
    }

    @Test("selectors in the forms lspci users type")
    func selectors() throws {
        let root = Fixtures.sysfs("multifunction")
        func listed(_ args: [String]) throws -> [String] {
            let r = try Command.tool(["list", "--root", root, "--json"] + args)
            #expect(r.status == 0, "\(r.stderr)")
            return (try Command.json(r.stdout)["functions"] as? [[String: Any]] ?? []).compactMap { $0["address"] as? String }
        }
        #expect(try listed(["-s", "01:00"]) == ["0000:01:00.0", "0000:01:00.1", "0000:01:00.2", "0000:01:00.3"])
        #expect(try listed(["-s", "0000:01:00.2"]) == ["0000:01:00.2"])
        #expect(try listed(["-s", "1f.3"]) == ["0000:00:1f.3"])
        #expect(try listed(["-s", "00:1f"]) == ["0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3"])
        #expect(try listed(["-d", "8086:10d3"]) == ["0000:01:00.0", "0000:01:00.3", "0000:02:00.0"])
        #expect(try listed(["-d", "1af4:"]) == ["0000:01:00.2"])
        let bad = try Command.tool(["list", "--root", root, "-s", "zz:00.0"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("invalid selector"))
    }

    @Test("text output: one line per function with driver, group and flags")
    func textOutput() throws {
        let r = try Command.tool(["list", "--root", Fixtures.sysfs("sriov")])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 11)
        let pf = try #require(lines.first { $0.hasPrefix("0000:01:00.0") })
        #expect(pf.contains("[1b36:0010]") && pf.contains("driver=nvme") && pf.contains("group=4") && pf.contains("PF 3/4 VFs"))
        let vf = try #require(lines.first { $0.hasPrefix("0000:01:00.2") })
        #expect(vf.contains("driver=vfio-pci") && vf.contains("VF of 0000:01:00.0"))
    }
}
