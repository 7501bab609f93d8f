import PCIConfigSpace
import PCIHost

/// What the kernel or vfio-pci refuses outright, whatever the groups say.
public enum KernelRefusals {
    /// vfio-pci's denylist (`vfio_pci_dev_in_denylist`, drivers/vfio/pci/vfio_pci.c, mainline since 5.10): Intel
    /// QuickAssist DH895xCC, C3xxx and C62x and their VFs, refused with "exists in vfio-pci device denylist"
    /// unless `disable_denylist=1`. It applies to vfio-pci itself, not to variant drivers.
    static let denylist: [UInt16: (name: String, devices: Set<UInt16>)] = [
        0x8086: ("Intel QAT DH895xCC, C3xxx or C62x (or one of their VFs)", [0x0435, 0x0443, 0x19e2, 0x19e3, 0x37c8, 0x37c9]),
    ]
    /// Sapphire Rapids DSA (0x0b25) and IAA (0x0cfe): a patch seen in distribution kernels adds them to the
    /// denylist; mainline 6.18 does not have it, so whether this host's vfio-pci refuses them is not known.
    static let sometimesDenied: [UInt16: (name: String, devices: Set<UInt16>)] = [
        0x8086: ("Intel DSA or IAA accelerator (Sapphire Rapids)", [0x0b25, 0x0cfe]),
    ]

    public static func denylisted(_ f: PCIFunction, model: HostModel) -> [Finding] {
        let listed = denylist[f.vendorID].map { $0.devices.contains(f.deviceID) } ?? false
        let maybe = sometimesDenied[f.vendorID].map { $0.devices.contains(f.deviceID) } ?? false
        guard listed || maybe else { return [] }
        // Already on vfio-pci (or a variant driver): the denylist did not stop it; vfio-pci loaded with
        // disable_denylist=Y (module parameter) binds it too.
        let disabled = model.environment.moduleParameters["vfio_pci/disable_denylist"].map { $0 == "Y" || $0 == "1" }
        if VFIODrivers.isVFIO(f.driver) || disabled == true {
            let why = VFIODrivers.isVFIO(f.driver) ? "it is bound to \(f.driver ?? "vfio-pci") already" : "vfio-pci has disable_denylist=Y"
            return [Finding(.vfioDenylist, .warn,
                "\(f.address) is on vfio-pci's denylist for known errata, but \(why): it can be assigned, and the errata the denylist guards against remain.",
                functions: [f.address], evidence: ["\(hex(f.vendorID, 4)):\(hex(f.deviceID, 4))"] + (disabled == true ? ["sys/module/vfio_pci/parameters/disable_denylist = Y"] : []))]
        }
        if listed, let entry = denylist[f.vendorID] {
            return [Finding(.vfioDenylist, .fail,
                "\(f.address) is on vfio-pci's denylist (\(entry.name)): vfio-pci refuses to bind it (\"exists in vfio-pci device denylist\", vfio_pci_dev_in_denylist).",
                functions: [f.address], evidence: ["\(hex(f.vendorID, 4)):\(hex(f.deviceID, 4))"],
                fix: "Load vfio-pci with disable_denylist=1 only if you accept the errata the denylist guards against.")]
        }
        if let entry = sometimesDenied[f.vendorID], entry.devices.contains(f.deviceID) {
            return [Finding(.vfioDenylist, .warn,
                "\(f.address) (\(entry.name)) is on vfio-pci's denylist in kernels that carry the DSA/IAA denylist patch (not mainline as of 6.18): there vfio-pci refuses to bind it.",
                functions: [f.address], evidence: ["\(hex(f.vendorID, 4)):\(hex(f.deviceID, 4))"],
                fix: "If binding fails with \"exists in vfio-pci device denylist\", load vfio-pci with disable_denylist=1, or assign its work queues with the idxd driver's own mechanisms.")]
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
