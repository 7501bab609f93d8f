import PCIConfigSpace
import PCIHost

/// The kernel's reset exceptions, as data (drivers/pci/quirks.c, Linux 6.18.y). Where sysfs `reset_method` is
/// there the kernel has applied them already; they matter when methods are read from config space (dumps,
/// kernels before 5.15). Each new kernel's additions are one line here.
public enum ResetQuirks {
    /// `quirk_no_flr` (PCI_DEV_FLAGS_NO_FLR_RESET): FLR hangs or breaks these, so neither `pcie_reset_flr` nor
    /// `pci_af_flr` is used. (`quirk_no_flr_snet` adds SolidRun 1000 rev 1.)
    static let noFLR: [UInt16: (name: String, devices: Set<UInt16>)] = [
        0x1022: ("AMD Starship/Matisse audio and USB", [0x1487, 0x148c, 0x149c, 0x7901]),
        0x8086: ("Intel 82579 GbE", [0x1502, 0x1503]),
        0x14c3: ("MediaTek MT7922 Wi-Fi", [0x0616]),
    ]

    /// `quirk_no_bus_reset` (PCI_DEV_FLAGS_NO_BUS_RESET): a secondary bus reset breaks these; a bus with one of
    /// them below it is not reset (`pci_parent_bus_reset`, `pci_bus_resettable`, so no VFIO hot reset either).
    static let noBusReset: [UInt16: (name: String, devices: Set<UInt16>)] = [
        0x168c: ("Atheros AR9xxx/QCA988x", [0x0030, 0x0032, 0x0033, 0x0034, 0x003c, 0x003e]),
        0x177d: ("Cavium CN8xxx root port", [0xa100]),
        0x104c: ("TI KeyStone C667X", [0xb005]),
    ]

    /// `quirk_no_pm_reset` (PCI_DEV_FLAGS_NO_PM_RESET): D3hot→D0 does not reset these although NoSoftRst is clear.
    /// Every ATI/AMD VGA function not on a root bus; Mellanox Spectrum switches.
    static let noPMResetMellanox: Set<UInt16> = [0xcb84, 0xcf6c, 0xcf70, 0xcf80]

    /// `pci_dev_reset_methods[]`: device-specific resets (`pci_dev_specific_reset`), with their function.
    static func deviceSpecific(_ f: PCIFunction, flr: Bool) -> String? {
        switch (f.vendorID, f.deviceID) {
        case (0x8086, 0x10ed): return "reset_intel_82599_sfp_virtfn"
        case (0x8086, 0x0156), (0x8086, 0x0166): return "reset_ivb_igd"
        case (0x144d, 0xa804) where flr && f.classCode.rawValue == 0x010802: return "nvme_disable_and_flr"
        case (0x8086, 0x0953) where flr, (0x8086, 0x0a54) where flr, (0x025e, 0xf1ac) where flr: return "delay_250ms_after_flr"
        case (0x1425, let d) where d & 0xf000 == 0x4000: return "reset_chelsio_generic_dev"
        case (0x19e5, 0x375e): return "reset_hinic_vf_dev"
        default: return nil
        }
    }

    static func lookup(_ table: [UInt16: (name: String, devices: Set<UInt16>)], _ f: PCIFunction) -> String? {
        guard let entry = table[f.vendorID], entry.devices.contains(f.deviceID) else { return nil }
        return entry.name
    }

    /// Whether a secondary bus reset is barred for `f`: `quirk_no_bus_reset`'s rows, and `quirk_nvidia_no_bus_reset`
    /// (NVIDIA devices whose ID masked with 0xffc0 is 0x2340).
    static func noBusResetQuirk(_ f: PCIFunction) -> String? {
        if f.vendorID == 0x10de, f.deviceID & 0xffc0 == 0x2340 { return "NVIDIA 0x2340–0x237f (quirk_nvidia_no_bus_reset)" }
        return lookup(noBusReset, f)
    }

    /// Whether FLR is barred: quirk_no_flr, or quirk_no_flr_snet (SolidRun 1000 revision 1).
    static func noFLRQuirk(_ f: PCIFunction) -> String? {
        if f.vendorID == 0xd063, f.deviceID == 0x1000, f.revision == 0x01 { return "SolidRun SNET DPU rev 1" }
        return lookup(noFLR, f)
    }

    /// Whether the PM reset is barred; `nil` when it is not, `.unknown` when it depends on a position the input lacks.
    static func noPMResetQuirk(_ f: PCIFunction) -> Fact<String?> {
        // quirk_no_pm_reset sets the flag only off the root bus, for Mellanox as for ATI.
        let name: String
        if f.vendorID == 0x15b3, noPMResetMellanox.contains(f.deviceID) {
            name = "Mellanox Spectrum"
        } else if f.vendorID == 0x1002, f.classCode.deviceClass == 0x0300 {
            name = "ATI/AMD VGA"
        } else {
            return .known(nil, evidence: "not on quirk_no_pm_reset's list")
        }
        switch f.position {
        case .known(.rootBus, _): return .known(nil, evidence: "a \(name) function on a root bus keeps its PM reset (quirk_no_pm_reset applies off the root bus)")
        case .known(.below, _): return .known(name, evidence: "quirk_no_pm_reset: \(name) off the root bus")
        case let .unknown(u): return .unknown(u)
        }
    }
}
