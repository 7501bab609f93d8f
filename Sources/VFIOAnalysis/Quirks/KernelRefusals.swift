import PCIConfigSpace
import PCIHost

/// What the kernel or vfio-pci refuses outright, whatever the groups say.
public enum KernelRefusals {
    /// vfio-pci's denylist (`vfio_pci_dev_in_denylist`, drivers/vfio/pci/vfio_pci.c): Intel QuickAssist devices
    /// and their VFs (since Linux 5.10), and the Sapphire Rapids DSA and IAA accelerators (added in 6.x), refused with
    /// "exists in vfio-pci device denylist" unless `disable_denylist=1`.
    static let denylist: [UInt16: (name: String, devices: Set<UInt16>)] = [
        0x8086: ("Intel QAT C3xxx/C62x/DH895xCC or their VFs, or the DSA/IAA accelerators",
                 [0x19e2, 0x19e3, 0x37c8, 0x37c9, 0x0435, 0x0443, 0x0b25, 0x0cfe]),
    ]

    public static func denylisted(_ f: PCIFunction) -> [Finding] {
        guard let entry = denylist[f.vendorID], entry.devices.contains(f.deviceID) else { return [] }
        return [Finding(.vfioDenylist, .fail,
            "\(f.address) is on vfio-pci's denylist (\(entry.name)): vfio-pci refuses to bind it (\"exists in vfio-pci device denylist\", vfio_pci_dev_in_denylist).",
            functions: [f.address], evidence: ["\(hex(f.vendorID, 4)):\(hex(f.deviceID, 4))"],
            fix: "Load vfio-pci with disable_denylist=1 only if you accept what the denylist guards against.")]
    }

    /// Firmware-mandated 1:1 mappings (Intel RMRR, AMD IVMD): a `direct` line in the group's `reserved_regions`
    /// (not `direct-relaxable`) makes attaching the group to a VM's IOMMU domain fail; the Intel driver says
    /// "Device is ineligible for IOMMU domain attach due to platform RMRR requirement. Contact your platform vendor."
    public static func directMappings(_ g: IOMMUGroup) -> [Finding] {
        guard let text = g.reservedRegions else { return [] }
        let direct = text.split(separator: "\n").filter { line in
            line.split(separator: " ").last == "direct"
        }
        guard !direct.isEmpty else { return [] }
        return [Finding(.directMapping, .fail,
            "IOMMU group \(g.id) has a firmware-mandated 1:1 mapping (RMRR or IVMD, type direct): the kernel refuses to attach it to a VM (\"ineligible for IOMMU domain attach due to platform RMRR requirement\").",
            functions: g.members, evidence: direct.map { "reserved_regions: \($0)" },
            fix: "A firmware setting or update may remove the RMRR (often for USB or integrated graphics); otherwise the device cannot be assigned on this platform.")]
    }
}
