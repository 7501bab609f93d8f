import PCIConfigSpace
import PCIHost

/// The kernel's ACS exceptions for Intel root ports, as data (`pci_dev_acs_enabled[]`, drivers/pci/quirks.c;
/// read from a Linux 6.x tree, gregkh/linux 9339c91). `pci_dev_specific_acs_enabled` walks that table in order
/// and takes the first quirk that claims the device: the RCiEP quirk, then the PCH quirk, then the SPT quirk.
/// Each new kernel's additions are one line in a table here.
public enum IntelPCHACS {
    /// `pci_quirk_intel_pch_acs_ids[]`: PCH root ports with ACS-like controls but no ACS capability (Red Hat
    /// bugzilla 1037684). They count as isolated only if `pci_quirk_enable_intel_pch_acs` succeeded at boot
    /// (it programs the chipset through the LPC bridge's RCBA), which config space cannot show.
    static let pchRootPorts: [(family: String, ids: [ClosedRange<UInt16>])] = [
        ("Ibex Peak", [0x3b42...0x3b51]),
        ("Cougar Point", [0x1c10...0x1c1f]),
        ("Panther Point", [0x1e10...0x1e1f]),
        ("Lynx Point-H", [0x8c10...0x8c1f]),
        ("Lynx Point-LP", [0x9c10...0x9c1b]),
        ("Wildcat Point", [0x9c90...0x9c9b]),
        ("Patsburg (X79)", [0x1d10...0x1d10, 0x1d12...0x1d12, 0x1d14...0x1d14, 0x1d16...0x1d16,
                            0x1d18...0x1d18, 0x1d1a...0x1d1a, 0x1d1c...0x1d1c, 0x1d1e...0x1d1e]),
        ("Wellsburg (X99)", [0x8d10...0x8d1e]),
        ("Lynx Point (9 series)", [0x8c90...0x8c90, 0x8c92...0x8c92, 0x8c94...0x8c94, 0x8c96...0x8c96,
                                   0x8c98...0x8c98, 0x8c9a...0x8c9a, 0x8c9c...0x8c9c, 0x8c9e...0x8c9e]),
    ]

    /// `pci_quirk_intel_spt_pch_acs_match`: root ports whose ACS control is a dword at capability + 8
    /// (`INTEL_SPT_ACS_CTRL`), not the word at + 6 that the specification (and lspci) read.
    static let sptRootPorts: [(family: String, ids: [ClosedRange<UInt16>])] = [
        ("Sunrise Point-H (100 series)", [0xa110...0xa11f, 0xa167...0xa16a]),
        ("Union Point (200 series)", [0xa290...0xa29f, 0xa2e7...0xa2ee]),
        ("7th/8th Gen mobile (U/Y)", [0x9d10...0x9d1b]),
    ]

    static func family(_ table: [(family: String, ids: [ClosedRange<UInt16>])], _ device: UInt16) -> String? {
        table.first { $0.ids.contains { $0.contains(device) } }?.family
    }

    /// The quirk's answer for `f`, or `nil` when no Intel PCH quirk claims it (the generic test applies).
    /// - `pci_quirk_intel_pch_acs`: isolated only if the boot-time workaround succeeded: unknown from config
    ///   space (the kernel logs "Intel PCH root port ACS workaround enabled", or "Failed to enable Intel PCH ACS quirk").
    /// - `pci_quirk_intel_spt_pch_acs`: the required flags, limited to those the capability dword at + 4
    ///   implements (plus EC), must all be set in the dword at + 8.
    /// - On the kernels that lost the workaround (`KernelRuleSet`), a PCH quirk port is not isolated (6.11.0–6.11.6)
    ///   or unknown (5.9.y).
    static func verdict(_ f: PCIFunction, required: ACSFlags, rules: KernelRuleSet = .mainline(release: nil),
                        controlsSetByKernel: Fact<Bool> = .known(true, evidence: "assumed")) -> ACSPolicy.Verdict? {
        guard f.vendorID == 0x8086, f.config?.pciExpress?.portType == .rootPort else { return nil }
        if let name = family(pchRootPorts, f.deviceID) {
            switch rules {
            case let .pchQuirkLost(_, why):
                return .notIsolated(why: "\(f.address) is an Intel \(name) PCH root port, and this kernel never enables its ACS workaround: \(why) (pci_quirk_intel_pch_acs)", missing: [])
            case let .pchQuirkMaybeLost(_, why):
                return .unknown(Unknown("\(f.address) is an Intel \(name) PCH root port counted as isolated only if its ACS workaround ran: \(why)",
                                        remedy: "look for \"Intel PCH root port ACS workaround enabled\" in the host's kernel log, or read the host's own IOMMU groups"))
            case .mainline:
                break
            }
            return .unknown(Unknown(
                "\(f.address) is an Intel \(name) PCH root port: whatever its ACS capability says, the kernel counts it as isolated only if its boot-time workaround succeeded (pci_quirk_intel_pch_acs), which config space does not show",
                remedy: "look for \"Intel PCH root port ACS workaround enabled\" in the host's kernel log (dmesg), or read the host's own IOMMU groups"))
        }
        if let name = family(sptRootPorts, f.deviceID) {
            let subject = "Intel \(name) PCH root port (ACS control read as the dword at + 8, pci_quirk_intel_spt_pch_acs)"
            switch f.acsCapability {
            case let .unknown(u):
                return .unknown(u)
            case .known(nil, _):
                // The quirk returns -ENOTTY without an ACS capability; the generic test then finds none.
                return nil
            case let .known(acs?, _):
                guard let control = acs.dwordAt8 else {
                    return .unknown(Unknown("the dword at ACS capability + 8 of \(f.address), where this \(name) root port keeps its ACS control, is not readable",
                                            remedy: f.provenance.configRemedy))
                }
                let implemented = ACSFlags(rawValue: acs.capability.rawValue).union(.egressControl)
                let wanted = required.intersection(implemented)
                let enabled = ACSFlags(rawValue: UInt16(truncatingIfNeeded: control) & 0x7f)
                let missing = wanted.subtracting(enabled)
                if missing.isEmpty {
                    return .isolated(why: "\(subject) with \(required.names.joined(separator: " ")) in effect")
                }
                // pci_quirk_enable_intel_spt_pch_acs sets them only when an IOMMU asked for ACS.
                switch controlsSetByKernel {
                case .known(true, _):
                    return .notIsolated(why: "\(subject) not enabling \(missing.names.joined(separator: " "))", missing: missing)
                case .known(false, _):
                    return .isolated(why: "\(subject): \(missing.names.joined(separator: " ")) are off while the IOMMU is off; with it on, pci_quirk_enable_intel_spt_pch_acs enables them")
                case let .unknown(u):
                    return .unknown(Unknown("\(subject) shows \(missing.names.joined(separator: " ")) off; a kernel with an IOMMU on enables them, and \(u.reason)", remedy: u.remedy))
                }
            }
        }
        return nil
    }
}
