import PCIConfigSpace
import PCIHost

/// Devices that issue DMA under requester IDs other than their own (drivers/pci/quirks.c, Linux 6.18.y,
/// Crazh3/unifreq_linux-6.18.y 11c8cf7). `pci_add_dma_alias` records an alias as a devfn on the device's own
/// bus; `pci_device_group` (drivers/iommu/iommu.c) then puts the device and every function at an alias (in
/// either direction, `pci_devs_are_dma_aliases`) into one group. An alias naming a devfn where no function
/// exists (a "ghost" function 1) changes nothing.
public enum DMAAliasQuirks {
    /// The aliases a quirk adds to a device.
    public enum Alias: Sendable {
        /// These devfns (device << 3 | function) on the device's bus.
        case devfns([UInt8])
        /// Devfns the kernel reads from device memory at boot (Switchtec NTB): config space cannot tell.
        case fromDeviceMemory
    }

    /// `quirk_dma_func0_alias`: Ricoh card readers and Glenfly GPUs use function 0's requester ID.
    static let function0: [UInt16: Set<UInt16>] = [0x1180: [0xe832, 0xe476], 0x6766: [0x3d40, 0x3d41]]
    /// `quirk_dma_func1_alias`: Marvell SATA/IDE, TTI RocketRAID, JMicron JMB388 and the Plextor M6e use function 1's.
    static let function1: [UInt16: Set<UInt16>] = [
        0x1b4b: [0x9120, 0x9123, 0x9125, 0x9128, 0x9130, 0x9170, 0x9172, 0x917a, 0x9182, 0x9183, 0x91a0, 0x9215, 0x9220, 0x9230, 0x9235],
        0x1103: [0x0642, 0x0645],
        0x197b: [0x2392],
        0x1c28: [0x0122],
    ]
    /// `quirk_mic_x200_dma_alias`: Intel MIC x200 aliases 10.0, 11.0 and 12.3.
    static let micX200: Set<UInt16> = [0x2260, 0x2264]
    /// `quirk_pex_vca_alias`: Intel Visual Compute Accelerator: functions 0–4 of every slot on its bus.
    static let vca: Set<UInt16> = [0x2954, 0x2955, 0x2956, 0x2958, 0x2959, 0x295a]
    /// `quirk_plx_ntb_dma_alias`: PLX NTB: every devfn on its bus.
    static let plxNTB: Set<UInt16> = [0x87b0, 0x87b1]
    /// `quirk_switchtec_ntb_dma_alias` (class 0680, "other bridge"): Microsemi Switchtec Gen3/Gen4/Gen5 and EFAR
    /// PCI100x NTB endpoints; the aliases come from the partitions' requester-ID tables in BAR 0.
    static let switchtec: Set<UInt16> = [
        0x8531, 0x8532, 0x8533, 0x8534, 0x8535, 0x8536, 0x8541, 0x8542, 0x8543, 0x8544, 0x8545, 0x8546,
        0x8551, 0x8552, 0x8553, 0x8554, 0x8555, 0x8556, 0x8561, 0x8562, 0x8563, 0x8564, 0x8565, 0x8566,
        0x8571, 0x8572, 0x8573, 0x8574, 0x8575, 0x8576, 0x4000, 0x4084, 0x4068, 0x4052, 0x4036, 0x4028,
        0x4100, 0x4184, 0x4168, 0x4152, 0x4136, 0x4128, 0x4200, 0x4284, 0x4268, 0x4252, 0x4236, 0x4228,
        0x4352, 0x4336, 0x4328, 0x4452, 0x4436, 0x4428, 0x4552, 0x4536, 0x4528, 0x5000, 0x5084, 0x5068,
        0x5052, 0x5036, 0x5028, 0x5100, 0x5184, 0x5168, 0x5152, 0x5136, 0x5128, 0x5200, 0x5284, 0x5268,
        0x5252, 0x5236, 0x5228, 0x5300, 0x5384, 0x5368, 0x5352, 0x5336, 0x5328, 0x5400, 0x5484, 0x5468,
        0x5452, 0x5436, 0x5428, 0x5500, 0x5584, 0x5568, 0x5552, 0x5536, 0x5528,
    ]

    static func isSwitchtecNTB(_ f: PCIFunction) -> Bool {
        guard f.classCode.deviceClass == 0x0680 else { return false }
        switch f.vendorID {
        case 0x11f8: return switchtec.contains(f.deviceID)
        case 0x1055: return (0x1001...0x1006).contains(f.deviceID)
        default: return false
        }
    }

    /// The quirk that gives `f` aliases, with them; `nil` when none does.
    public static func aliases(of f: PCIFunction) -> (quirk: String, alias: Alias)? {
        let slot = f.address.device << 3
        if function0[f.vendorID]?.contains(f.deviceID) == true, f.address.function != 0 {
            return ("quirk_dma_func0_alias", .devfns([slot]))
        }
        if function1[f.vendorID]?.contains(f.deviceID) == true, f.address.function != 1 {
            return ("quirk_dma_func1_alias", .devfns([slot | 1]))
        }
        if f.vendorID == 0x9005, f.deviceID == 0x0285, f.subsystemVendorID == 0x9005,
           f.subsystemDeviceID == 0x02bb || f.subsystemDeviceID == 0x02bc {
            return ("quirk_fixed_dma_alias", .devfns([0x08]))
        }
        guard f.vendorID == 0x8086 || f.vendorID == 0x10b5 || f.vendorID == 0x11f8 || f.vendorID == 0x1055 else { return nil }
        if f.vendorID == 0x8086, micX200.contains(f.deviceID) { return ("quirk_mic_x200_dma_alias", .devfns([0x80, 0x88, 0x93])) }
        if f.vendorID == 0x8086, vca.contains(f.deviceID) {
            return ("quirk_pex_vca_alias", .devfns((0..<32).flatMap { d in (0..<5).map { UInt8(d << 3 | $0) } }))
        }
        if f.vendorID == 0x10b5, plxNTB.contains(f.deviceID) { return ("quirk_plx_ntb_dma_alias", .devfns((0...255).map(UInt8.init))) }
        if isSwitchtecNTB(f) { return ("quirk_switchtec_ntb_dma_alias", .fromDeviceMemory) }
        return nil
    }

    /// `quirk_bridge_cavm_thrx2_pcie_root` (Broadcom/Cavium ThunderX2 root bridges): the alias walk stops at
    /// the bridge (`PCI_DEV_FLAGS_BRIDGE_XLATE_ROOT`).
    public static func stopsAliasWalk(_ bridge: PCIFunction) -> Bool {
        bridge.vendorID == 0x14e4 && (bridge.deviceID == 0x9000 || bridge.deviceID == 0x9084)
    }

    /// Intel Volume Management Device endpoints (`vmd_ids`, drivers/pci/controller/vmd.c). Every function of the
    /// PCI domain a VMD creates (0x10000 and up, `vmd_find_free_domain`) issues DMA as the VMD endpoint
    /// (`pci_real_dma_dev`), so it lands in the VMD endpoint's group.
    static let vmdEndpoints: Set<UInt16> = [0x201d, 0x28c0, 0x467f, 0x4c3d, 0xa77f, 0x7d0b, 0xad0b, 0x9a0b, 0xb60b, 0xb06f]

    public static func isVMDEndpoint(_ f: PCIFunction) -> Bool {
        f.vendorID == 0x8086 && vmdEndpoints.contains(f.deviceID)
    }
}
