import Foundation
import PCIHost
import Testing
import TestSupport

/// What the kernel or vfio-pci refuses whatever the groups say: vfio-pci's denylist, firmware 1:1 mappings,
/// and PCI domains QEMU cannot name.
@Suite("Kernel refusals")
struct KernelRefusalTests {
    static func dump(_ header: String, _ row: String) -> String { header + "\n" + row + "\n" }

    @Test("vfio-pci's denylist: a QAT C62x is refused (vfio_pci_dev_in_denylist)")
    func denylist() throws {
        let text = Self.dump("00:00.0 Host bridge", "00: 86 80 00 00 00 00 00 00 00 00 00 06 00 00 00 00")
            + Self.dump("\n3d:00.0 Co-processor", "00: 86 80 c8 37 00 00 00 00 00 00 40 0b 00 00 00 00")
        let r = try Command.run(Command.toolPath, ["check", "3d:00.0", "--dump", "-", "--json"], input: text)
        let json = try Command.json(r.stdout)
        let drivers = (json["checks"] as? [[String: Any]])?.first { $0["id"] as? String == "drivers" }
        #expect(drivers?["result"] as? String == "FAIL")
        #expect(((drivers?["findings"] as? [[String: Any]]) ?? []).contains { $0["code"] as? String == "vfio-denylist" })
        #expect(r.status == 2)
    }

    @Test("vfio-pci's denylist since 6.10 (stable 6.9.1, 6.8.10, 6.1.91): Sapphire Rapids DSA and IAA are refused like QAT; disable_denylist lets them bind",
          arguments: ["25 0b", "fe 0c"])
    func denylistDSA(_ device: String) throws {
        let text = Self.dump("00:00.0 Host bridge", "00: 86 80 00 00 00 00 00 00 00 00 00 06 00 00 00 00")
            + Self.dump("\n6a:01.0 System peripheral", "00: 86 80 \(device) 00 00 00 00 00 00 80 08 00 00 00 00")
        let r = try Command.run(Command.toolPath, ["check", "6a:01.0", "--dump", "-", "--json"], input: text)
        let drivers = (try Command.json(r.stdout)["checks"] as? [[String: Any]])?.first { $0["id"] as? String == "drivers" }
        let finding = ((drivers?["findings"] as? [[String: Any]]) ?? []).first { $0["code"] as? String == "vfio-denylist" }
        #expect(finding?["severity"] as? String == "fail")
        #expect(r.status == 2)
    }

    @Test("vfio-pci loaded with disable_denylist=Y binds a denylisted device: a caution, not a block")
    func denylistDisabled() throws {
        let root = try Fixtures.scratchCopy(of: "sriov")
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try Command.run("/bin/chmod", ["-R", "u+w", root])
        let dir = root + "/sys/devices/pci0000:00/0000:00:02.1/0000:02:00.0"
        try Fixtures.replace(dir + "/vendor", withText: "0x8086\n")
        try Fixtures.replace(dir + "/device", withText: "0x0b25\n")
        try FileManager.default.removeItem(atPath: dir + "/modalias") // else modalias names the old IDs
        var bytes = try Fixtures.readBytes(dir + "/config")
        bytes[0] = 0x86; bytes[1] = 0x80; bytes[2] = 0x25; bytes[3] = 0x0b
        FileManager.default.createFile(atPath: dir + "/config", contents: Data(bytes))
        let before = try Command.json(try Command.tool(["check", "--json", "--root", root, "02:00.0"]).stdout)
        #expect(before["verdict"] as? String == "blocked")
        try FileManager.default.createDirectory(atPath: root + "/sys/module/vfio_pci/parameters", withIntermediateDirectories: true)
        try "Y\n".write(toFile: root + "/sys/module/vfio_pci/parameters/disable_denylist", atomically: false, encoding: .utf8)
        let after = try Command.json(try Command.tool(["check", "--json", "--root", root, "02:00.0"]).stdout)
        let drivers = (after["checks"] as? [[String: Any]])?.first { $0["id"] as? String == "drivers" }
        let finding = ((drivers?["findings"] as? [[String: Any]]) ?? []).first { $0["code"] as? String == "vfio-denylist" }
        #expect(finding?["severity"] as? String == "warn")
        #expect(after["verdict"] as? String != "blocked")
    }

    @Test("a VFIO device registered by another driver (vfio-dev/vfioN under nvidia, as NVIDIA's vGPU VFs) is VFIO-owned: never told to rebind")
    func vendorVFIODevice() throws {
        let root = try Fixtures.scratchCopy(of: "sriov")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dir = root + "/sys/devices/pci0000:00/0000:00:02.1/0000:02:00.0"
        try FileManager.default.createDirectory(atPath: dir + "/vfio-dev/vfio0", withIntermediateDirectories: true)
        try Fixtures.replace(dir + "/driver", withLinkTo: "../../../../bus/pci/drivers/nvidia")
        let check = try Command.json(try Command.tool(["check", "--json", "--root", root, "02:00.0"]).stdout)
        let drivers = (check["checks"] as? [[String: Any]])?.first { $0["id"] as? String == "drivers" }
        let codes = ((drivers?["findings"] as? [[String: Any]]) ?? []).compactMap { $0["code"] as? String }
        #expect(codes.contains("vfio-bound") && !codes.contains("host-driver"), "\(codes)")
        let script = try Command.tool(["check", "--fix-script", "--root", root, "02:00.0"]).stdout
        #expect(!script.contains("driver_override") && !script.contains("unbind"), "\(script)")
        let hotplug = try Command.tool(["plan", "02:00.0", "--root", root, "--format", "virsh-hotplug"]).stdout
        #expect(!hotplug.contains("nodedev-detach pci_0000_02_00_0"), "\(hotplug)")
        let xml = try Command.tool(["plan", "02:00.0", "--root", root]).stdout
        #expect(xml.contains("managed='no'") && !xml.contains("type='pci' managed='yes'"), "\(xml)")
    }

    @Test("VFIO's hot reset names what it also resets: a GPU's audio function and the GPU on a real laptop; a bridge below makes it impossible")
    func hotResetScope() throws {
        let laptop = try Command.tool(["check", "--json", "--dump", Fixtures.realdata("nvidia-bug-report-lspci/asus-tuf-fx505dt-laptop.lspci-nnDvvvxxx.txt"), "01:00.1"])
        let reset = (try Command.json(laptop.stdout)["checks"] as? [[String: Any]])?.first { $0["id"] as? String == "reset" }
        let message = (((reset?["findings"] as? [[String: Any]]) ?? []).first { $0["code"] as? String == "bus-reset-only" })?["message"] as? String ?? ""
        #expect(message.contains("0000:01:00.0 (nvidia)"), "\(message)")
        #expect(message.contains("not yet bound to vfio-pci: 0000:01:00.0"))
        // Behind the PCIe-to-PCI bridge of a real kernel's snapshot, the bus also holds a PCI-PCI bridge.
        let bridged = try Command.tool(["check", "--root", Fixtures.sysfs("pcie-pci-bridge"), "02:01.0"])
        #expect(bridged.stdout.contains("including the bridge(s) 0000:02:05.0") && bridged.stdout.contains("VFIO cannot perform this hot reset"))
    }

    @Test("a direct (RMRR/IVMD) reserved region blocks the group; direct-relaxable does not")
    func directMapping() throws {
        let root = try Fixtures.scratchCopy(of: "rp-acs")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let model = try SysfsScanner(root: HostRoot(root)).scan()
        let group = try #require(model.function(PCIAddress(bus: 2, device: 0, function: 0))?.iommuGroup)
        let before = try Command.tool(["check", "--root", root, "02:00.0"])
        #expect(!before.stdout.contains("direct-mapping"))
        let file = root + "/sys/kernel/iommu_groups/\(group)/reserved_regions"
        let text = try String(contentsOfFile: file, encoding: .utf8)
        try Fixtures.replace(file, withText: (text + "0x000000007b800000 0x000000007fffffff direct\n"))
        let after = try Command.tool(["check", "--root", root, "02:00.0"])
        #expect(after.status == 2)
        #expect(after.stdout.contains("direct-mapping") && after.stdout.contains("0x000000007b800000"))
    }

    @Test("a function in a PCI domain above 0xffff (behind Intel VMD) cannot be planned")
    func vmdDomain() throws {
        let text = Self.dump("10000:e1:00.0 Non-Volatile memory controller", "00: 86 80 53 09 00 00 00 00 00 02 08 01 00 00 00 00")
        let r = try Command.run(Command.toolPath, ["plan", "10000:e1:00.0", "--dump", "-", "--json"], input: text)
        #expect(r.status == 2)
        let json = try Command.json(r.stdout)
        #expect(((json["refusals"] as? [[String: Any]]) ?? []).contains { $0["code"] as? String == "plan-domain-too-large" })
    }
}
