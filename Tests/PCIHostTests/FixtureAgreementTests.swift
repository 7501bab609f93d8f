import Foundation
import PCIHost
import Testing
import TestSupport

/// Each real-kernel snapshot is its own test case; `lspci.txt` and `groups.txt` are the truth.
@Suite("Real kernel fixtures")
struct FixtureAgreementTests {
    static let fixtures = Fixtures.sysfsNames

    func scan(_ name: String) throws -> HostModel {
        try SysfsScanner(root: HostRoot(Fixtures.sysfs(name))).scan()
    }

    @Test("there are fixtures to test")
    func fixturesExist() {
        #expect(Self.fixtures.count >= 10, "Tests/Fixtures/sysfs is missing; run Scripts/import-fixtures.py")
    }

    @Test("functions equal what lspci listed", arguments: fixtures)
    func functionsMatchLspci(_ name: String) throws {
        let model = try scan(name)
        let ours = Set(model.functions.map(\.address.description))
        let lspci = try Fixtures.lspciFunctions(name)
        #expect(!lspci.isEmpty)
        #expect(ours == lspci)
        #expect(model.diagnostics.isEmpty, "\(model.diagnostics)")
    }

    @Test("groups equal the kernel's groups.txt", arguments: fixtures)
    func groupsMatchKernel(_ name: String) throws {
        let model = try scan(name)
        let ours = Set(model.groups.map { Set($0.members.map(\.description)) }.filter { !$0.isEmpty })
        #expect(ours == (try Fixtures.kernelGroups(name)))
        // And every function's own iommu_group link agrees with the group listing.
        for f in model.functions {
            let listed = model.groups.first { $0.members.contains(f.address) }?.id
            #expect(f.iommuGroup == listed, "\(f.address)")
            #expect(!f.diagnostics.contains { $0.code == "group-inconsistent" }, "\(f.address): \(f.diagnostics)")
        }
    }

    @Test("physfn and virtfn links agree both ways", arguments: fixtures)
    func sriovLinksAgree(_ name: String) throws {
        let model = try scan(name)
        for f in model.functions {
            if let pf = f.physicalFunction {
                let parent = try #require(model.function(pf), "\(f.address) names missing PF \(pf)")
                #expect(parent.virtualFunctions.contains(f.address))
            }
            for vf in f.virtualFunctions {
                let child = try #require(model.function(vf))
                #expect(child.physicalFunction == f.address)
            }
            if let state = f.sriovPhysicalState {
                #expect(state.numVFs == state.virtualFunctions.count)
            }
        }
    }

    @Test("multifunction bit equals byte 0x0e of each config file", arguments: fixtures)
    func multifunctionBitMatchesConfig(_ name: String) throws {
        let model = try scan(name)
        for f in model.functions {
            let path = try #require(f.sysfsPath)
            let bytes = try Fixtures.readBytes(Fixtures.sysfs(name) + "/" + path + "/config")
            #expect(bytes.count > 0x0e)
            #expect(f.multifunctionBit == (bytes[0x0e] & 0x80 != 0), "\(f.address)")
            #expect(f.header?.layout.rawValue == bytes[0x0e] & 0x7f, "\(f.address)")
            #expect(f.configBytesReadable == bytes.count)
        }
    }

    /// The link state worked out from config space (`LinkState(pciExpress:)`) must be what the kernel itself
    /// printed in the four link files of the same snapshot, on both scan paths (the full decode, and the PCI
    /// Express capability read alone for listings), and config space must answer for most PCIe functions.
    @Test("link state from the PCIe capability equals the kernel's link files", arguments: fixtures)
    func linkStateFromConfigMatchesKernel(_ name: String) throws {
        func file(_ path: String, _ attribute: String) -> String? {
            (try? String(contentsOfFile: Fixtures.sysfs(name) + "/" + path + "/" + attribute, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var fromConfig = 0, withFiles = 0
        for decode in [false, true] {
            let model = try SysfsScanner(root: HostRoot(Fixtures.sysfs(name)), options: ScanOptions(decodeCapabilities: decode)).scan()
            for f in model.functions {
                let path = try #require(f.sysfsPath)
                let kernel = LinkState(currentSpeed: file(path, "current_link_speed"), currentWidth: file(path, "current_link_width").flatMap { Int($0) },
                                       maxSpeed: file(path, "max_link_speed"), maxWidth: file(path, "max_link_width").flatMap { Int($0) })
                #expect(f.link == kernel, "\(f.address) (decode: \(decode))")
                let bytes = try Fixtures.readBytes(Fixtures.sysfs(name) + "/" + path + "/config")
                if let header = try? ConfigHeader(from: ConfigBytes(bytes)),
                   let e = ConfigSpaceDecoder.pciExpress(in: ConfigBytes(bytes), header: header), let state = LinkState(pciExpress: e) {
                    #expect(state == kernel, "\(f.address)")
                    fromConfig += 1
                }
                if !kernel.isEmpty { withFiles += 1 }
            }
        }
        #expect(fromConfig == withFiles, "config space answered for \(fromConfig) of \(withFiles) functions with link files")
    }

    /// Where the registers leave the kernel's text in doubt, config space does not answer (the files do).
    @Test("link registers the kernel versions read differently are not taken from config space")
    func ambiguousLinkRegisters() throws {
        // A root port (type 4), version 2 capability at 0x40, LNKCAP Max Link Speed code `capSpeed`, width x16,
        // LNKSTA 8.0 GT/s x4, LNKCAP2 vector `vector`.
        func state(capSpeed: UInt32, vector: UInt32, version: UInt8 = 2, type: UInt8 = 4, statusSpeed: UInt16 = 3,
                   width: UInt32 = 16, length: Int = 256) throws -> LinkState? {
            var b = [UInt8](repeating: 0, count: 256)
            b[0] = 0x86; b[1] = 0x80; b[6] = 0x10; b[0x0e] = 1; b[0x34] = 0x40
            b[0x40] = 0x10; b[0x41] = 0; b[0x42] = version | type << 4
            func put32(_ at: Int, _ v: UInt32) { for k in 0..<4 { b[at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) } }
            put32(0x40 + 0x0c, capSpeed | width << 4)
            put32(0x40 + 0x12, UInt32(statusSpeed) | 4 << 4)
            put32(0x40 + 0x2c, vector)
            let bytes = ConfigBytes(Array(b.prefix(length)))
            let header = try ConfigHeader(from: bytes)
            return ConfigSpaceDecoder.pciExpress(in: bytes, header: header).flatMap { LinkState(pciExpress: $0) }
        }
        // Consistent: vector 2.5–16 GT/s, Max Link Speed 16 GT/s.
        #expect(try state(capSpeed: 4, vector: 0b1_1110) == LinkState(currentSpeed: "8.0 GT/s PCIe", currentWidth: 4, maxSpeed: "16.0 GT/s PCIe", maxWidth: 16))
        // The vector goes past Max Link Speed: 6.12 says 16, 6.13 says 8: ask the file.
        #expect(try state(capSpeed: 3, vector: 0b1_1110) == nil)
        // No vector (version 1, or zero): only 2.5 and 5.0 GT/s are read from LNKCAP.
        #expect(try state(capSpeed: 2, vector: 0, version: 1)?.maxSpeed == "5.0 GT/s PCIe")
        #expect(try state(capSpeed: 3, vector: 0)?.maxSpeed == "Unknown")
        #expect(try state(capSpeed: 0, vector: 0)?.maxSpeed == "Unknown")
        // LNKCAP2 with no speed bit (6.12: "Unknown"; 6.13: from LNKCAP), and a LNKCAP of zero (255 or 0 by kernel).
        #expect(try state(capSpeed: 2, vector: 0x8000_0000) == nil)
        #expect(try state(capSpeed: 0, vector: 0, width: 0) == nil)
        // A reserved port type: the kernel reads zeros.
        #expect(try state(capSpeed: 4, vector: 0b1_1110, type: 0xb) == nil)
        // A version 2 capability cut off before LNKCAP2: unknown, not a zero register.
        #expect(try state(capSpeed: 2, vector: 0, length: 0x40 + 0x2c) == nil)
        #expect(try state(capSpeed: 2, vector: 0, length: 0x40 + 0x30)?.maxSpeed == "5.0 GT/s PCIe")
        // A current speed outside pcie_link_speed's table; a function without link registers (RCiEP).
        #expect(try state(capSpeed: 4, vector: 0b1_1110, statusSpeed: 9)?.currentSpeed == "Unknown")
        #expect(try state(capSpeed: 4, vector: 0b1_1110, type: 9) == nil)
    }

    /// A config file cut off inside the PCI Express capability (before LNKCAP2) leaves the link to the kernel's
    /// files, on both scan paths: a register not read is not a zero register.
    @Test("a config cut off before LNKCAP2 leaves the link state to the files")
    func linkStateOfCutOffConfig() throws {
        let root = try Fixtures.scratchCopy(of: "switch")
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try Command.run("/bin/chmod", ["-R", "u+w", root])
        let dir = try FileManager.default.destinationOfSymbolicLink(atPath: root + "/sys/bus/pci/devices/0000:00:02.0")
        let config = root + "/sys/bus/pci/devices/" + dir + "/config"
        // The root port's PCI Express capability is at 0x54: LNKCAP2 at 0x80 is cut off.
        let bytes = try Fixtures.readBytes(config)
        #expect(bytes[0x54] == 0x10)
        try Data(bytes.prefix(0x80)).write(to: URL(fileURLWithPath: config))
        for decode in [false, true] {
            let model = try SysfsScanner(root: HostRoot(root), options: ScanOptions(decodeCapabilities: decode)).scan()
            let address = try #require(PCIAddress(sysfsName: "0000:00:02.0"))
            let port = try #require(model.function(address))
            #expect(port.link == LinkState(currentSpeed: "2.5 GT/s PCIe", currentWidth: 1, maxSpeed: "16.0 GT/s PCIe", maxWidth: 32), "decode: \(decode)")
        }
    }

    /// Before Linux 5.7 the link files say "8 GT/s", not pci_speed_string's "8.0 GT/s PCIe": there the files answer.
    @Test("link speeds come from the registers only on kernels that print them in that form")
    func linkSpeedTextByKernelRelease() {
        #expect(!SysfsScanner.printsLinkSpeedsAsRegistersGive(kernelRelease: "4.19.0-27-amd64"))
        #expect(!SysfsScanner.printsLinkSpeedsAsRegistersGive(kernelRelease: "5.6.19"))
        #expect(SysfsScanner.printsLinkSpeedsAsRegistersGive(kernelRelease: "5.7.0-rc1"))
        #expect(SysfsScanner.printsLinkSpeedsAsRegistersGive(kernelRelease: "6.12.5+deb13-amd64"))
        #expect(SysfsScanner.printsLinkSpeedsAsRegistersGive(kernelRelease: "10.0"))
        #expect(SysfsScanner.printsLinkSpeedsAsRegistersGive(kernelRelease: nil))
    }

    @Test("IDs come from sysfs: a VF's config reads ffff but its vendor file does not")
    func virtualFunctionIDsFromSysfs() throws {
        let model = try scan("sriov")
        let vfs = model.functions.filter(\.isVirtualFunction)
        #expect(vfs.count == 3)
        for vf in vfs {
            #expect(vf.header?.vendorID == 0xffff)
            #expect(vf.vendorID == 0x1b36 && vf.deviceID == 0x0010)
            #expect(vf.physicalFunction?.description == "0000:01:00.0")
        }
        let pf = try #require(model.function(PCIAddress(bus: 1, device: 0, function: 0)))
        let state = try #require(pf.sriovPhysicalState)
        #expect(state.totalVFs == 4 && state.numVFs == 3 && state.offset == 1 && state.stride == 1)
        #expect(state.vfDeviceID == 0x0010)
    }

    @Test("host-use evidence: mounted namespace, interface up, boot VGA with DRM")
    func hostUseEvidence() throws {
        let model = try scan("host-in-use")
        let vga = try #require(model.function(PCIAddress(bus: 0, device: 1, function: 0)))
        #expect(vga.bootVGA == true)
        #expect(vga.hostUse.value?.drmDevices.contains("card0") == true)
        #expect(vga.hostUse.value?.framebuffers == ["fb0"])
        let nic = try #require(model.function(PCIAddress(bus: 1, device: 0, function: 0)))
        #expect(nic.hostUse.value?.netInterfaces.first?.operstate == "up")
        #expect(nic.hostUse.value?.netInterfaces.first?.administrativelyUp == true)
        let idle = try #require(model.function(PCIAddress(bus: 4, device: 0, function: 0)))
        #expect(idle.hostUse.value?.netInterfaces.first?.administrativelyUp == false)
        let nvme = try #require(model.function(PCIAddress(bus: 3, device: 0, function: 0)))
        #expect(Set(nvme.hostUse.value?.blockDevices ?? []) == ["nvme1n1", "nvme1n1p1"])
        let ahci = try #require(model.function(PCIAddress(bus: 0, device: 0x1f, function: 2)))
        #expect(ahci.hostUse.value?.blockDevices == ["sda"])
        #expect(model.environment.mounts.value?.contains { $0.mountPoint == "/mnt" && $0.fsType == "ext2" } == true)
    }

    @Test("the no-IOMMU host has no groups and no units")
    func noIOMMU() throws {
        let model = try scan("no-iommu")
        #expect(model.groups.isEmpty)
        #expect(model.environment.iommuUnits.isEmpty)
        #expect(model.functions.allSatisfy { $0.iommuGroup == nil })
    }

    @Test("IOMMU units: VT-d registers, and the AMD-Vi unit's own PCI function")
    func iommuUnits() throws {
        let intel = try scan("rp-acs").environment.iommuUnits
        #expect(intel.map(\.kind) == [.intelVTd])
        #expect(intel.first?.registers["ecap"] != nil)
        let amd = try scan("amd-iommu")
        #expect(amd.environment.iommuUnits.first?.kind == .amdVi)
        #expect(amd.environment.iommuUnits.first?.pciFunction?.description == "0000:00:01.0")
        #expect(amd.function(PCIAddress(bus: 0, device: 1, function: 0))?.iommuGroup == nil)
    }

    @Test("upstream bridges follow the sysfs path")
    func upstreamChain() throws {
        let model = try scan("switch")
        let nic = try #require(model.function(PCIAddress(bus: 3, device: 0, function: 0)))
        #expect(nic.upstream.map(\.description) == ["0000:02:00.0", "0000:01:00.0", "0000:00:02.0"])
    }
}
