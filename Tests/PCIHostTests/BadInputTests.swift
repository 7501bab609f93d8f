import Foundation
import PCIHost
import PCILibPCI
import Testing
import TestSupport

/// Bad input gets a clear message or a recorded diagnostic, never a crash, never a silently wrong answer.
@Suite("Bad input")
struct BadInputTests {
    func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    @Test("a missing root is refused with exit 3 and a message")
    func missingRoot() throws {
        let r = try Command.tool(["list", "--root", "/nonexistent/vfio-inspect-root"])
        #expect(r.status == 3)
        #expect(r.stderr.contains("does not exist"))
    }

    @Test("a directory without sysfs is refused, saying what was expected")
    func notSysfs() throws {
        let dir = try Fixtures.temporaryDirectory("empty")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Command.tool(["list", "--root", dir])
        #expect(r.status == 3)
        #expect(r.stderr.contains("sys/bus/pci/devices"))
    }

    @Test("a snapshot copied without its links is recognised as such")
    func flattenedLinks() throws {
        let dir = try Fixtures.temporaryDirectory("flat")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/sys/bus/pci/devices", withIntermediateDirectories: true)
        try write("../../../devices/pci0000:00/0000:00:00.0", to: dir + "/sys/bus/pci/devices/0000:00:00.0")
        #expect(throws: HostScanError.linksFlattened(dir, example: "sys/bus/pci/devices/0000:00:00.0")) {
            try SysfsScanner(root: HostRoot(dir)).scan()
        }
    }

    @Test("links out of the root are never followed: device, config and group links")
    func hostileLinks() throws {
        let dir = try Fixtures.scratchCopy(of: "rp-acs")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fm = FileManager.default
        // A device entry that leads out of the root.
        try Fixtures.replace(dir + "/sys/bus/pci/devices/0000:05:00.0", withLinkTo: "../../../../../../../../../../etc")
        // A config file that is a link to a file of this machine, absolute and relative.
        let nic = dir + "/sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0"
        try Fixtures.replace(nic + "/config", withLinkTo: "../../../../../../../../../../../etc/passwd")
        let nvme = dir + "/sys/devices/pci0000:00/0000:00:02.1/0000:02:00.0"
        try Fixtures.replace(nvme + "/vendor", withLinkTo: "/etc/hostname")
        // modalias answers for the IDs when it is there; without it the scanner reads `vendor` itself.
        try FileManager.default.removeItem(atPath: nvme + "/modalias")

        let model = try SysfsScanner(root: HostRoot(dir)).scan()
        #expect(model.function(PCIAddress(bus: 5, device: 0, function: 0)) == nil)
        #expect(model.diagnostics.contains { $0.code == "link-outside-root" && $0.message.contains("0000:05:00.0") })
        let f = try #require(model.function(PCIAddress(bus: 1, device: 0, function: 0)))
        #expect(f.diagnostics.contains { $0.code == "link-outside-root" })
        #expect(f.header == nil)
        #expect(f.vendorID == 0x8086) // from the vendor file, not from /etc/passwd
        // An absolute link resolves inside the root (as in a chroot), where there is no etc/hostname.
        let n = try #require(model.function(PCIAddress(bus: 2, device: 0, function: 0)))
        #expect(n.diagnostics.contains { $0.code == "dangling-link" && $0.message.contains("vendor") })
        #expect(n.vendorID == 0x1b36) // fell back to config space
    }

    @Test("a link loop is a diagnostic, not a hang")
    func linkLoop() throws {
        let dir = try Fixtures.scratchCopy(of: "multifunction")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let entry = dir + "/sys/bus/pci/devices/0000:02:00.0"
        try Fixtures.replace(entry, withLinkTo: "0000:02:00.0")
        let model = try SysfsScanner(root: HostRoot(dir)).scan()
        #expect(model.diagnostics.contains { $0.code == "link-loop" })
        #expect(model.functions.count == 10)
    }

    @Test("a device whose directory vanished between listing and reading is reported and left out")
    func vanished() throws {
        let dir = try Fixtures.scratchCopy(of: "multifunction")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.removeItem(atPath: dir + "/sys/devices/pci0000:00/0000:00:02.1/0000:02:00.0")
        let model = try SysfsScanner(root: HostRoot(dir)).scan()
        #expect(model.function(PCIAddress(bus: 2, device: 0, function: 0)) == nil)
        #expect(model.diagnostics.contains { $0.message.contains("0000:02:00.0") })
        // The group listing still names it: that inconsistency is reported too.
        #expect(model.diagnostics.contains { $0.code == "group-inconsistent" })
    }

    @Test("config cut to 64 bytes: the header is read, capabilities are unknown, not absent")
    func configCutTo64() throws {
        let dir = try Fixtures.scratchCopy(of: "rp-acs")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = dir + "/sys/devices/pci0000:00/0000:00:02.1/0000:02:00.0/config"
        let bytes = try Fixtures.readBytes(config)
        try FileManager.default.removeItem(atPath: config)
        try Data(bytes.prefix(64)).write(to: URL(fileURLWithPath: config))
        let f = try #require(try SysfsScanner(root: HostRoot(dir)).scan().function(PCIAddress(bus: 2, device: 0, function: 0)))
        #expect(f.configBytesReadable == 64)
        #expect(f.header != nil)
        #expect(f.diagnostics.contains { $0.code == "config-limited" })
    }

    @Test("config shorter than the header, and a FIFO in place of config: diagnostics, no hang")
    func configTruncatedAndFIFO() throws {
        let dir = try Fixtures.scratchCopy(of: "rp-acs")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let short = dir + "/sys/devices/pci0000:00/0000:00:02.1/0000:02:00.0/config"
        try FileManager.default.removeItem(atPath: short)
        try Data([0x36, 0x1b, 0x10, 0x00]).write(to: URL(fileURLWithPath: short))
        let fifo = dir + "/sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0/config"
        try FileManager.default.removeItem(atPath: fifo)
        #expect(mkfifo(fifo, 0o644) == 0)
        let model = try SysfsScanner(root: HostRoot(dir)).scan()
        let nvme = try #require(model.function(PCIAddress(bus: 2, device: 0, function: 0)))
        #expect(nvme.header == nil && nvme.configBytesReadable == 4)
        #expect(nvme.diagnostics.contains { $0.code == "config-truncated" })
        let nic = try #require(model.function(PCIAddress(bus: 1, device: 0, function: 0)))
        #expect(nic.diagnostics.contains { $0.code == "not-a-regular-file" })
    }

    @Test("a garbage dump is refused with a message")
    func garbageDump() throws {
        let dir = try Fixtures.temporaryDirectory("dump")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Data(noise).write(to: URL(fileURLWithPath: dir + "/noise"))
        #expect(throws: HostScanError.self) { try DumpScanner(path: dir + "/noise").scan() }
        try write("hello\nthis is not a dump\n", to: dir + "/text")
        #expect(throws: HostScanError.dumpEmpty(dir + "/text")) { try DumpScanner(path: dir + "/text").scan() }
        let r = try Command.tool(["list", "--dump", dir + "/text"])
        #expect(r.status == 3)
        #expect(r.stderr.contains("holds no PCI listing"))
    }

    @Test("libpci's fatal dump errors come back as errors; the process lives on")
    func libpciErrorIsGuarded() throws {
        let dir = try Fixtures.temporaryDirectory("malformed")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try write("00:00.0 Host bridge\n00: 86 80 zz\n", to: dir + "/malformed")
        do {
            _ = try LibPCIDump.read(path: dir + "/malformed")
            Issue.record("a malformed line was accepted")
        } catch {
            #expect(error.message.contains("Malformed"))
        }
        do {
            _ = try LibPCIDump.read(path: dir + "/does-not-exist")
            Issue.record("a missing dump was accepted")
        } catch {
            #expect(error.message.contains("Cannot open"))
        }
        // The same libpci still works afterwards (a fresh access each time).
        #expect(try LibPCIDump.read(path: Fixtures.realdata("pciutils-tests/cap-pcie-2")).count == 1)
    }
}
