import Foundation
import Testing
import TestSupport

@Suite("report and check")
struct ReportTests {
    /// `check` verdicts and exit codes for the cases a host admin meets.
    @Test("check exit codes", arguments: [
        ("vfio-bound", ["01:00.0"], Int32(4), ["vfio-in-use"]),                         // on vfio-pci; no process table: in use by a VM?
        ("sriov", ["01:00.2"], Int32(4), ["vfio-in-use"]),                              // a VF on vfio-pci: the same question
        ("sriov", ["01:00.1"], Int32(1), ["no-driver"]),                                // a VF that needs binding
        ("sriov", ["01:00.0"], Int32(2), ["pf-with-vfs", "host-driver"]),               // a PF with VFs enabled: vfio-pci refuses it
        ("multifunction", ["01:00.1"], Int32(1), ["function0-missing", "group-expanded"]), // function without function 0; shares a group
        ("pcie-pci-bridge", ["02:01.0"], Int32(1), ["group-expanded", "host-driver"]),  // shares a group with host-bound functions
        ("switch", ["03:00.0"], Int32(1), ["host-driver"]),                             // shares only with its downstream port
        ("host-in-use", ["02:00.0"], Int32(2), ["host-mounted"]),                       // mounted filesystem
        ("host-in-use", ["01:00.0"], Int32(2), ["host-net-up"]),                        // interface up
        ("host-in-use", ["00:01.0"], Int32(4), ["boot-vga", "no-reset", "firmware-framebuffer-unknown"]), // boot VGA; no reset_method file where others have one; no proc/iomem or kernel release: whether efifb holds a BAR is unknown
        ("host-in-use", ["00:1f.2"], Int32(2), ["chipset-function", "group-expanded"]), // the chipset group
        ("no-iommu", ["01:00.0"], Int32(2), ["iommu-off"]),                             // no IOMMU
        ("amd-iommu", ["00:01.0"], Int32(2), ["not-in-group"]),                         // the IOMMU itself
        ("amd-iommu", ["02:00.0"], Int32(1), ["host-driver"]),                          // identity domain does not prevent VFIO
    ])
    func checkExitCodes(_ fixture: String, _ selectors: [String], _ status: Int32, _ codes: [String]) throws {
        let r = try Command.tool(["check", "--root", Fixtures.sysfs(fixture), "--json"] + selectors)
        #expect(r.status == status, "\(fixture) \(selectors): \(r.stdout.prefix(400))")
        let json = try Command.json(r.stdout)
        #expect(json["exitStatus"] as? Int == Int(status))
        let found = Set(((json["checks"] as? [[String: Any]]) ?? []).flatMap { ($0["findings"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String } })
        for code in codes { #expect(found.contains(code), "\(fixture) \(selectors): \(code) missing from \(found.sorted())") }
        // Every check line has its stable id and a result.
        let lines = (json["checks"] as? [[String: Any]]) ?? []
        #expect(lines.compactMap { $0["id"] as? String } == ["iommu", "interrupt-remapping", "acs-override", "whole-group", "candidate", "drivers",
                                                             "backend", "host-use", "reset", "interrupts", "function0", "sriov", "mmio-window", "migration"])
        // Text output: one PASS/WARN/FAIL/UNKNOWN line per check.
        let text = try Command.tool(["check", "--root", Fixtures.sysfs(fixture)] + selectors)
        #expect(text.status == status)
        #expect(text.stdout.split(separator: "\n").filter { l in ["PASS", "WARN", "FAIL", "UNKNOWN"].contains { l.hasSuffix(": " + $0) } }.count == 14)
    }

    @Test("report verdicts per fixture group", arguments: [
        ("vfio-bound", "0000:01:00.0", "undetermined"), ("vfio-bound", "0000:03:00.0", "needs-preparation"),
        ("rp-acs", "0000:00:1f.0", "blocked"), ("sriov", "0000:01:00.2", "undetermined"), ("sriov", "0000:01:00.1", "needs-preparation"),
        ("host-in-use", "0000:02:00.0", "blocked"), ("host-in-use", "0000:03:00.0", "undetermined"), // unmounted NVMe: the snapshot has no proc/swaps
        ("multifunction", "0000:01:00.3", "needs-preparation"), ("switch", "0000:00:02.0", "blocked"), ("switch", "0000:03:00.0", "needs-preparation"),
    ])
    func verdicts(_ fixture: String, _ member: String, _ verdict: String) throws {
        let r = try Command.tool(["report", "--root", Fixtures.sysfs(fixture), "--json"])
        #expect(r.status == 0)
        let groups = try #require(try Command.json(r.stdout)["groups"] as? [[String: Any]])
        let group = try #require(groups.first { ($0["members"] as? [String])?.contains(member) == true })
        #expect(group["verdict"] as? String == verdict, "\(group["findings"] ?? "")")
    }

    @Test("the no-IOMMU host: every unit blocked, the host finding says how to enable it")
    func noIOMMU() throws {
        let r = try Command.tool(["report", "--root", Fixtures.sysfs("no-iommu"), "--json"])
        let json = try Command.json(r.stdout)
        let host = try #require(json["host"] as? [String: Any])
        let findings = try #require(host["findings"] as? [[String: Any]])
        let off = try #require(findings.first { $0["code"] as? String == "iommu-off" })
        #expect((off["fix"] as? String)?.contains("intel_iommu=on") == true)
        #expect((json["groups"] as? [[String: Any]])?.allSatisfy { $0["verdict"] as? String == "blocked" } == true)
        #expect(json["groupPredictionMatches"] is NSNull)
    }

    @Test("report --json and list --json validate against Schemas/vfio-inspect.schema.json", arguments: Fixtures.sysfsNames)
    func schema(_ fixture: String) throws {
        let python = try #require(JSONSchemaCheck.python, "needs python3-jsonschema (Scripts/install-deps.sh --test)")
        let schema = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Schemas/vfio-inspect.schema.json").path
        let dir = try Fixtures.temporaryDirectory("schema")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for command in ["report", "list"] {
            let r = try Command.tool([command, "--root", Fixtures.sysfs(fixture), "--json"])
            try r.stdout.write(toFile: dir + "/out.json", atomically: true, encoding: .utf8)
            let v = try JSONSchemaCheck.validate(python: python, schema: schema, document: dir + "/out.json")
            #expect(v.status == 0, "\(command) \(fixture): \(v.stdout) \(v.stderr)")
        }
    }
}

@Suite("tree")
struct TreeTests {
    @Test("text tree: every function once, ports annotated with ACS", arguments: Fixtures.sysfsNames)
    func text(_ fixture: String) throws {
        let r = try Command.tool(["tree", "--root", Fixtures.sysfs(fixture)])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n").filter { $0.contains("group=") }
        #expect(lines.count == (try Fixtures.lspciFunctions(fixture)).count)
    }

    @Test("dot output renders with Graphviz, one cluster per group")
    func dot() throws {
        let dot = try #require(Command.which("dot"), "needs graphviz (Scripts/install-deps.sh --test)")
        let r = try Command.tool(["tree", "--root", Fixtures.sysfs("switch"), "--format", "dot"])
        #expect(r.status == 0)
        #expect(r.stdout.components(separatedBy: "subgraph \"cluster_group_").count - 1 == 10)
        let dir = try Fixtures.temporaryDirectory("dot")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try r.stdout.write(toFile: dir + "/t.dot", atomically: true, encoding: .utf8)
        let rendered = try Command.run(dot, ["-Tsvg", dir + "/t.dot", "-o", dir + "/t.svg"])
        #expect(rendered.status == 0, "\(rendered.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir + "/t.svg"))
    }
}
