import PCIConfigSpace
import PCIHost

/// What the kernel or vfio-pci refuses outright, whatever the groups say.
public enum KernelRefusals {
    /// vfio-pci's denylist (`vfio_pci_dev_in_denylist`, drivers/vfio/pci/vfio_pci.c, read in a 6.17 tree): Intel
    /// QuickAssist DH895xCC, C3xxx and C62x and their VFs (since 5.10), and the Sapphire Rapids DSA (0x0b25) and IAA
    /// (0x0cfe) accelerators (commit 95feb3160eef, "VFIO: Add the SPR_DSA and SPR_IAX devices to the denylist",
    /// mainline 6.10, stable 6.9.1, 6.8.10 and 6.1.91), refused by vfio_pci_probe with "exists in vfio-pci device
    /// denylist" unless vfio_pci.disable_denylist=1. It applies to vfio-pci itself, not to variant drivers.
    static let denylist: [UInt16: (name: String, devices: Set<UInt16>)] = [
        0x8086: ("Intel QAT DH895xCC, C3xxx or C62x (or one of their VFs), or Sapphire Rapids DSA or IAA",
                 [0x0435, 0x0443, 0x19e2, 0x19e3, 0x37c8, 0x37c9, 0x0b25, 0x0cfe]),
    ]

    public static func denylisted(_ f: PCIFunction, model: HostModel) -> [Finding] {
        let listed = denylist[f.vendorID].map { $0.devices.contains(f.deviceID) } ?? false
        guard listed else { return [] }
        // Already on vfio-pci (or a variant driver): the denylist did not stop it; vfio-pci loaded with
        // disable_denylist=Y (module parameter) binds it too.
        let disabled = model.environment.moduleParameters["vfio_pci/disable_denylist"].map { $0 == "Y" || $0 == "1" }
        if VFIODrivers.isVFIO(f.driver) || disabled == true {
            let why = VFIODrivers.isVFIO(f.driver) ? "it is bound to \(f.driver ?? "vfio-pci") already" : "vfio-pci has disable_denylist=Y"
            return [Finding(.vfioDenylist, .warn,
                "\(f.address) is on vfio-pci's denylist for known errata, but \(why): it can be assigned, and the errata the denylist guards against remain.",
                functions: [f.address], evidence: ["\(hex(f.vendorID, 4)):\(hex(f.deviceID, 4))"] + (disabled == true ? ["sys/module/vfio_pci/parameters/disable_denylist = Y"] : []))]
        }
        // DSA/IAA joined the list in 6.10 (stable 6.1.91 and later): a kernel older than 6.1 has no such entry of its own.
        if [0x0b25, 0x0cfe].contains(f.deviceID), let release = model.environment.kernelRelease {
            let v = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
            if v.count == 2, (v[0], v[1]) < (6, 1) {
                return [Finding(.vfioDenylist, .warn,
                    "\(f.address) (Sapphire Rapids DSA or IAA) is on vfio-pci's denylist since Linux 6.10 (stable 6.1.91 and later); this kernel, \(release), is older, so its vfio-pci refuses it only if the distribution backported the entry.",
                    functions: [f.address], evidence: ["\(hex(f.vendorID, 4)):\(hex(f.deviceID, 4))", "proc/sys/kernel/osrelease = \(release)"],
                    fix: "If binding fails with \"exists in vfio-pci device denylist\", load vfio-pci with disable_denylist=1 only if you accept the errata.")]
            }
        }
        if listed, let entry = denylist[f.vendorID] {
            return [Finding(.vfioDenylist, .fail,
                "\(f.address) is on vfio-pci's denylist (\(entry.name)): vfio-pci refuses to bind it (\"exists in vfio-pci device denylist\", vfio_pci_dev_in_denylist).",
                functions: [f.address], evidence: ["\(hex(f.vendorID, 4)):\(hex(f.deviceID, 4))"],
                fix: "Load vfio-pci with disable_denylist=1 only if you accept the errata the denylist guards against.")]
        }
        return []
    }

    /// Firmware-mandated 1:1 mappings (Intel RMRR, AMD IVMD): a `direct` line in the group's `reserved_regions`
    /// (not `direct-relaxable`) makes attaching the group to a VM's IOMMU domain fail. Since "iommu: Prevent
    /// RESV_DIRECT devices from blocking domains" the core says "Firmware has requested this device have a 1:1
    /// IOMMU mapping, rejecting configuring the device without a 1:1 mapping. Contact your platform vendor.";
    /// older Intel kernels said "… ineligible for IOMMU domain attach due to platform RMRR requirement".
    public static func directMappings(_ g: IOMMUGroup) -> [Finding] {
        let text: String
        switch g.reservedRegions {
        case let .known(value, _): text = value
        case let .unknown(u):
            return [.unknown(.directMapping, "Whether IOMMU group \(g.id) has a firmware-mandated 1:1 mapping (which makes the kernel refuse to attach it to a VM) is unknown.",
                             functions: g.members, u)]
        }
        let direct = text.split(separator: "\n").filter { line in
            line.split(separator: " ").last == "direct"
        }
        guard !direct.isEmpty else { return [] }
        return [Finding(.directMapping, .fail,
            "IOMMU group \(g.id) has a firmware-mandated 1:1 mapping (Intel RMRR or AMD IVMD, type direct): the kernel refuses to attach it to a VM (\"Firmware has requested this device have a 1:1 IOMMU mapping, rejecting configuring the device without a 1:1 mapping\"; older Intel kernels: \"ineligible for IOMMU domain attach due to platform RMRR requirement\").",
            functions: g.members, evidence: direct.map { "reserved_regions: \($0)" },
            fix: "A firmware setting or update may remove the mapping (Intel RMRRs are often for USB or integrated graphics; AMD IVMD entries come from the board's IVRS table); otherwise the device cannot be assigned on this platform.")]
    }
}
