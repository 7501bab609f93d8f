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
