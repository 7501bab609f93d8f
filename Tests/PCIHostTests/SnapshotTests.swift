import Foundation
import PCIHost
import Testing
import TestSupport

@Suite("snapshot")
struct SnapshotTests {
    /// `list --json` without the source path, which differs by design.
    func listing(_ root: String) throws -> String {
        let r = try Command.tool(["list", "--root", root, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout.split(separator: "\n").filter { !$0.contains("\"path\" :") }.joined(separator: "\n")
    }

    @Test("a snapshot of a fixture lists exactly as the fixture", arguments: Fixtures.sysfsNames)
    func roundTrip(_ name: String) throws {
        let out = try Fixtures.temporaryDirectory("snap") + "/copy"
        defer { try? FileManager.default.removeItem(atPath: (out as NSString).deletingLastPathComponent) }
        let r = try Command.tool(["snapshot", "--root", Fixtures.sysfs(name), out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("captured"))
        #expect(try listing(out) == (try listing(Fixtures.sysfs(name))))
        // Relative links, as sysfs has them.
        let link = try FileManager.default.destinationOfSymbolicLink(atPath: out + "/sys/bus/pci/devices/0000:00:00.0")
        #expect(link.hasPrefix("../"))
    }

    @Test("a snapshot never reads resourceN, rom or vpd, and never copies a link that leaves the root")
    func exclusions() throws {
        let src = try Fixtures.scratchCopy(of: "rp-acs")
        defer { try? FileManager.default.removeItem(atPath: src) }
        let dev = src + "/sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0"
        for name in ["resource0", "rom", "vpd"] {
            try "must not be copied\n".write(toFile: dev + "/" + name, atomically: false, encoding: .utf8)
        }
        try FileManager.default.createSymbolicLink(atPath: dev + "/physfn", withDestinationPath: "../../../../../../../../../etc")
        let out = try Fixtures.temporaryDirectory("snapx") + "/copy"
        defer { try? FileManager.default.removeItem(atPath: (out as NSString).deletingLastPathComponent) }
        let summary = try SnapshotWriter(source: HostRoot(src), destination: out).write()
        let copied = out + "/sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0"
        for name in ["resource0", "rom", "vpd", "physfn"] {
            #expect(!FileManager.default.fileExists(atPath: copied + "/" + name), "\(name) was copied")
        }
        #expect(FileManager.default.fileExists(atPath: copied + "/config"))
        #expect(summary.skipped.contains { $0.code == "link-outside-root" })
    }

    @Test("the destination must be new or empty, and outside the source's sys/")
    func destinationChecks() throws {
        let busy = try Fixtures.temporaryDirectory("busy")
        defer { try? FileManager.default.removeItem(atPath: busy) }
        try "x".write(toFile: busy + "/file", atomically: false, encoding: .utf8)
        #expect(throws: SnapshotError.destinationNotEmpty(busy)) {
            try SnapshotWriter(source: HostRoot(Fixtures.sysfs("sriov")), destination: busy).write()
        }
        let inside = Fixtures.sysfs("sriov") + "/sys/snap"
        #expect(throws: SnapshotError.destinationInsideSource(inside)) {
            try SnapshotWriter(source: HostRoot(Fixtures.sysfs("sriov")), destination: inside).write()
        }
    }
}

@Suite("This machine")
struct LiveHostTests {
    static var hasPCI: Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/bus/pci/devices")) ?? []).isEmpty == false
    }

    @Test("the live host lists the same functions as lspci", .enabled(if: hasPCI))
    func liveMatchesLspci() throws {
        let lspci = try #require(Command.which("lspci"))
        let reference = try Command.run(lspci, ["-D", "-n"])
        let r = try Command.tool(["list", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let functions = try #require(try Command.json(r.stdout)["functions"] as? [[String: Any]])
        #expect(Set(functions.compactMap { $0["address"] as? String }) == Lspci.addresses(in: reference.stdout))
    }

    @Test("a non-root reader sees 64 config bytes, and says so",
          .enabled(if: hasPCI && getuid() == 0 && Command.which("setpriv") != nil))
    func nonRoot() throws {
        let setpriv = try #require(Command.which("setpriv"))
        let r = try Command.run(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", Command.toolPath, "list", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let functions = try #require(try Command.json(r.stdout)["functions"] as? [[String: Any]])
        #expect(!functions.isEmpty)
        for f in functions {
            #expect(f["configBytesReadable"] as? Int == 64)
            #expect((f["configSize"] as? Int ?? 0) >= 256)
        }
    }

    @Test("report and check run on this machine; without IOMMU groups every check is blocked", .enabled(if: hasPCI))
    func liveReport() throws {
        let report = try Command.tool(["report", "--json"])
        #expect(report.status == 0, "\(report.stderr)")
        let json = try Command.json(report.stdout)
        let functions = try #require(json["functions"] as? [[String: Any]])
        let first = try #require(functions.first?["address"] as? String)
        let check = try Command.tool(["check", first])
        let groups = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/kernel/iommu_groups")) ?? []
        if groups.isEmpty {
            #expect(check.status == 2)
            #expect(check.stdout.contains("iommu-off"))
        } else {
            #expect([0, 1, 2].contains(check.status))
        }
    }

    @Test("snapshot of this machine reads back the same", .enabled(if: hasPCI))
    func liveSnapshot() throws {
        let out = try Fixtures.temporaryDirectory("live") + "/copy"
        defer { try? FileManager.default.removeItem(atPath: (out as NSString).deletingLastPathComponent) }
        let r = try Command.tool(["snapshot", out])
        #expect(r.status == 0, "\(r.stderr)")
        let live = try Command.json(try Command.tool(["list", "--json"]).stdout)["functions"] as? [[String: Any]]
        let copy = try Command.json(try Command.tool(["list", "--root", out, "--json"]).stdout)["functions"] as? [[String: Any]]
        #expect(live?.count == copy?.count)
        #expect(live?.compactMap { $0["address"] as? String } == copy?.compactMap { $0["address"] as? String })
    }
}
