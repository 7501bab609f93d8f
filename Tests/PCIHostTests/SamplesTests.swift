import Foundation
import Testing
import TestSupport

/// Samples/ holds the outputs the README quotes; they must match what the tool prints now.
/// Re-record with Scripts/make-samples.sh after an intended change.
@Suite("Samples (golden outputs)")
struct SamplesTests {
    static let samples = ["sriov", "multifunction", "host-in-use"]
    static let repository = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()

    @Test("list and list --json of each sample are current", arguments: samples)
    func golden(_ name: String) throws {
        let dir = Self.repository.appendingPathComponent("Samples").appendingPathComponent(name)
        let root = dir.appendingPathComponent("root").path
        let text = try Command.tool(["list", "--root", root])
        #expect(text.status == 0)
        #expect(text.stdout == (try String(contentsOf: dir.appendingPathComponent("list.txt"), encoding: .utf8)))
        let json = try Command.tool(["list", "--root", root, "--json"])
        let recorded = try String(contentsOf: dir.appendingPathComponent("list.json"), encoding: .utf8)
        func withoutPath(_ s: String) -> [Substring] { s.split(separator: "\n").filter { !$0.contains("\"path\" :") } }
        #expect(withoutPath(json.stdout) == withoutPath(recorded))
        let report = try Command.tool(["report", "--root", root])
        #expect(report.stdout == (try String(contentsOf: dir.appendingPathComponent("report.txt"), encoding: .utf8)))
        let summary = try Command.tool(["report", "--summary", "--root", root])
        #expect(summary.stdout == (try String(contentsOf: dir.appendingPathComponent("summary.txt"), encoding: .utf8)))
        let reportJSON = try Command.tool(["report", "--root", root, "--json"])
        let recordedReport = try String(contentsOf: dir.appendingPathComponent("report.json"), encoding: .utf8)
        #expect(withoutPath(reportJSON.stdout) == withoutPath(recordedReport))
    }

    static let plans: [(file: String, args: [String])] = [
        ("multifunction/plan-q35.xml", ["01:00"]),
        ("multifunction/plan-q35.qemu.txt", ["01:00", "--format", "qemu"]),
        ("multifunction/plan-pseries.qemu.txt", ["01:00", "--format", "qemu", "--machine", "pseries"]),
        ("multifunction/plan-hidden.xml", ["01:00.0", "01:00.2", "--hide", "01:00.3"]),
        ("multifunction/plan-hidden.hotplug.sh", ["01:00.0", "01:00.2", "--hide", "01:00.3", "--format", "virsh-hotplug"]),
        ("multifunction/plan.json", ["01:00", "--json"]),
        ("sriov/plan-vf.hotplug.sh", ["01:00.2", "--format", "virsh-hotplug"]),
    ]

    @Test("the plans the README quotes are current", arguments: 0..<plans.count)
    func plan(_ i: Int) throws {
        let (file, args) = Self.plans[i]
        let sample = String(file.prefix { $0 != "/" })
        let root = Self.repository.appendingPathComponent("Samples/\(sample)/root").path
        let r = try Command.tool(["plan", "--root", root] + args)
        let recorded = try String(contentsOf: Self.repository.appendingPathComponent("Samples/\(file)"), encoding: .utf8)
        func withoutPath(_ s: String) -> [Substring] { s.split(separator: "\n").filter { !$0.contains("\"path\" :") } }
        #expect(withoutPath(r.stdout) == withoutPath(recorded), "\(file) is stale: Scripts/make-samples.sh")
    }

    @Test("the README's show example is current")
    func showExample() throws {
        let root = Self.repository.appendingPathComponent("Samples/sriov/root").path
        let r = try Command.tool(["show", "--root", root, "00:02.0"])
        let recorded = try String(contentsOf: Self.repository.appendingPathComponent("Samples/sriov/show-00-02.0.txt"), encoding: .utf8)
        #expect(r.stdout == recorded, "Samples/sriov/show-00-02.0.txt is stale: Scripts/make-samples.sh")
        let readme = try String(contentsOf: Self.repository.appendingPathComponent("README.md"), encoding: .utf8)
        for line in recorded.split(separator: "\n").prefix(11) { #expect(readme.contains(line), "README lacks: \(line)") }
    }

    @Test("the README's picture is the tree of the SR-IOV sample as the tool draws it now")
    func picture() throws {
        let root = Self.repository.appendingPathComponent("Samples/sriov/root").path
        let r = try Command.tool(["tree", "--format", "dot", "--root", root])
        let recorded = try String(contentsOf: Self.repository.appendingPathComponent("Samples/sriov/tree.dot"), encoding: .utf8)
        #expect(r.stdout == recorded, "Samples/sriov/tree.dot is stale: Scripts/make-samples.sh")
        let svg = try String(contentsOf: Self.repository.appendingPathComponent("Samples/sriov/tree.svg"), encoding: .utf8)
        for address in ["01:00.0", "01:00.2", "02:00.0"] { #expect(svg.contains(address)) }
    }

    static let fleet: [(file: String, args: [String])] = [
        ("vfio-inspect", ["export", "--format", "nfd"]),
        ("vfio_inspect.prom", ["export", "--format", "prometheus", "--baseline", "MULTIFUNCTION"]),
        ("vfio_inspect.fact", ["export", "--format", "ansible-fact"]),
        ("vfio-inspect-resourceslice.json", ["export", "--format", "dra", "--node-name", "node-1"]),
        ("suggest-kubevirt.yaml", ["suggest", "--for", "kubevirt"]),
        ("suggest-sriovdp.yaml", ["suggest", "--for", "sriovdp"]),
        ("suggest-nova.conf", ["suggest", "--for", "nova"]),
        ("suggest-proxmox.cfg", ["suggest", "--for", "proxmox", "--node-name", "pve1"]),
    ]

    @Test("the fleet files and suggestions of the SR-IOV sample are current", arguments: 0..<fleet.count)
    func fleetSample(_ i: Int) throws {
        let (file, args) = Self.fleet[i]
        let root = Self.repository.appendingPathComponent("Samples/sriov/root").path
        let multifunction = Self.repository.appendingPathComponent("Samples/multifunction/root").path
        let r = try Command.tool(args.map { $0 == "MULTIFUNCTION" ? multifunction : $0 } + ["--root", root])
        #expect(r.status == 0)
        let recorded = try String(contentsOf: Self.repository.appendingPathComponent("Samples/sriov/fleet/\(file)"), encoding: .utf8)
        // The expiry moves with the clock and the source names the path it was read from.
        func stable(_ s: String) -> [Substring] {
            s.split(separator: "\n").filter { !$0.hasPrefix("# +expiry-time=") && !$0.contains("\"source\" :") }
        }
        #expect(stable(r.stdout) == stable(recorded), "Samples/sriov/fleet/\(file) is stale: Scripts/make-samples.sh")
    }

    @Test("the README's diff is current")
    func diffSample() throws {
        let samples = Self.repository.appendingPathComponent("Samples").path
        let r = try Command.tool(["diff", samples + "/multifunction/root", samples + "/sriov/root"])
        #expect(r.status == 1)
        let recorded = try String(contentsOf: Self.repository.appendingPathComponent("Samples/diff-multifunction-sriov.txt"), encoding: .utf8)
        func stable(_ s: String) -> [Substring] { s.split(separator: "\n").filter { !$0.hasPrefix("baseline:") && !$0.hasPrefix("current:") } }
        #expect(stable(r.stdout) == stable(recorded))
        let readme = try String(contentsOf: Self.repository.appendingPathComponent("README.md"), encoding: .utf8)
        for line in stable(recorded).prefix(6) { #expect(readme.contains(line), "README lacks: \(line)") }
    }

    @Test("the man page covers every subcommand and every long option the help has")
    func manual() throws {
        let page = try String(contentsOf: Self.repository.appendingPathComponent("Samples/vfio-inspect.1"), encoding: .utf8)
        let help = try Command.json(try Command.tool(["--experimental-dump-help"]).stdout)
        var missing: [String] = []
        func walk(_ command: [String: Any]) {
            if let name = command["commandName"] as? String, !page.contains(name) { missing.append(name) }
            for argument in command["arguments"] as? [[String: Any]] ?? [] {
                for n in argument["names"] as? [[String: Any]] ?? [] where n["kind"] as? String == "long" {
                    if let name = n["name"] as? String, !page.contains("Fl -" + name) && !page.contains(", -" + name) { missing.append("--" + name) }
                }
            }
            for sub in command["subcommands"] as? [[String: Any]] ?? [] { walk(sub) }
        }
        walk(try #require(help["command"] as? [String: Any]))
        #expect(missing.isEmpty, "Samples/vfio-inspect.1 is stale (Scripts/make-samples.sh): \(missing)")
        // EXIT STATUS lists the verdict statuses, not the generic "0 on success".
        let exit = try #require(page.components(separatedBy: ".Sh \"EXIT STATUS\"").last)
        for status in ["0", "1", "2", "3", "4", "5", "64"] { #expect(exit.contains(".It \(status)\n"), "EXIT STATUS lacks \(status)") }
        #expect(!exit.contains(".Ex -std"))
    }

    @Test("each sample lists the same functions as its fixture's lspci", arguments: samples)
    func sampleMatchesFixture(_ name: String) throws {
        let root = Self.repository.appendingPathComponent("Samples/\(name)/root").path
        let json = try Command.json(try Command.tool(["list", "--root", root, "--json"]).stdout)
        let addresses = (json["functions"] as? [[String: Any]] ?? []).compactMap { $0["address"] as? String }
        #expect(Set(addresses) == (try Fixtures.lspciFunctions(name)))
    }
}
