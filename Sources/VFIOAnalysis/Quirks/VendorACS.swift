import PCIConfigSpace
import PCIHost

/// The rest of `pci_dev_acs_enabled[]` (drivers/pci/quirks.c, Linux 6.18.y, Crazh3/unifreq_linux-6.18.y 11c8cf7;
/// the same table in linux-next 2b8258e): root ports and devices of other vendors that the kernel counts as
/// isolated without (or despite) an ACS capability, and the two families it counts as not isolated even
/// with a working one. Each row is data; a new kernel's additions are one line each.
public enum VendorACS {
    /// `pci_quirk_amd_sb_acs`: ATI/AMD southbridge functions (SB7xx/SB8xx/Hudson SMBus, IDE, HDA, LPC, the
    /// PCI bridge). Isolated only when multifunction, on a root bus and the firmware has an ACPI IVRS table
    /// (AMD-Vi present); otherwise the generic test applies.
    static let amdSouthbridge: [UInt16: Set<UInt16>] = [
        0x1002: [0x4385, 0x439c, 0x4383, 0x439d, 0x4384, 0x4399],
        0x1022: [0x780f, 0x7809],
    ]
    /// `pci_quirk_qcom_rp_acs`: Qualcomm QDF2xxx and SA8775P root ports, HXT SD4800 root ports.
    static let qualcommRootPorts: [UInt16: Set<UInt16>] = [0x17cb: [0x0400, 0x0401, 0x0115], 0x1dbf: [0x0401]]
    /// `pci_quirk_xgene_acs`: AppliedMicro X-Gene and Ampere root ports.
    static let xgene: [UInt16: Set<UInt16>] = [0x10e8: [0xe004], 0x1def: [0xe005, 0xe006, 0xe007, 0xe008, 0xe009, 0xe00a, 0xe00b, 0xe00c]]
    /// `pci_quirk_brcm_acs`: Broadcom iProc PAXB root port.
    static let broadcomRootPorts: Set<UInt16> = [0xd714]
    /// `pci_quirk_loongson_acs`: Loongson 3C5000/7A root ports.
    static let loongson: Set<UInt16> = [0x3c09, 0x3c19, 0x3c29, 0x7a09, 0x7a19, 0x7a29, 0x7a39, 0x7a49, 0x7a59, 0x7a69]
    /// `pci_quirk_nxp_rp_acs`: NXP LX2xx0/LX2xx2 root ports.
    static let nxpRootPorts: Set<UInt16> = [
        0x8d81, 0x8da1, 0x8d83, 0x8d80, 0x8da0, 0x8d82, 0x8d90, 0x8db0, 0x8d92, 0x8d91, 0x8db1, 0x8d93,
        0x8d89, 0x8da9, 0x8d8b, 0x8d88, 0x8da8, 0x8d8a, 0x8d98, 0x8db8, 0x8d9a, 0x8d99, 0x8db9, 0x8d9b,
    ]
    /// `pci_quirk_cavium_acs`: Cavium ThunderX root ports (0xa000–0xa7ff), ThunderX2 (0xaf84), ThunderX3 (0xb884).
    static let caviumRootPorts: [ClosedRange<UInt16>] = [0xa000...0xa7ff, 0xaf84...0xaf84, 0xb884...0xb884]
    /// `pci_quirk_zhaoxin_pcie_ports_acs`: Zhaoxin root and downstream ports that isolate; every other Zhaoxin
    /// root or downstream port is "not isolated" whatever its ACS capability says.
    static let zhaoxinIsolatedPorts: [ClosedRange<UInt16>] = [0x0710...0x071e, 0x0721...0x0721, 0x0723...0x0752]
    /// `pci_quirk_wangxun_nic_acs`: Wangxun NICs that isolate; every other Wangxun device is "not isolated".
    static let wangxunIsolated: [ClosedRange<UInt16>] = [0x0100...0x010f, 0x1001...0x1001, 0x2001...0x2001,
        0x5010...0x5010, 0x5025...0x5025, 0x5040...0x5040, 0x5110...0x5110, 0x5125...0x5125, 0x5140...0x5140]

    static func isolated(_ f: PCIFunction, _ quirk: String, _ what: String) -> ACSPolicy.Verdict {
        .isolated(why: "\(what) \(hex(f.vendorID, 4)):\(hex(f.deviceID, 4)) (kernel quirk \(quirk))")
    }

    /// The quirks of this file, in their place in `pci_dev_acs_enabled[]` after the Intel rows: the answer of
    /// the first that claims `f`, or `nil` (every quirk returned -ENOTTY/-ENODEV: the generic test applies).
    /// `portType` is the function's PCIe port type (`nil`: not PCI Express).
    static func verdict(_ f: PCIFunction, portType: PCIExpress.PortType?, context: ACSContext) -> ACSPolicy.Verdict? {
        switch f.vendorID {
        case 0x177d where portType == .rootPort && caviumRootPorts.contains(where: { $0.contains(f.deviceID) }):
            return isolated(f, "pci_quirk_cavium_acs", "Cavium ThunderX root port")
        case 0x10e8, 0x1def:
            if xgene[f.vendorID]?.contains(f.deviceID) == true { return isolated(f, "pci_quirk_xgene_acs", "X-Gene/Ampere root port") }
        case 0x14e4 where broadcomRootPorts.contains(f.deviceID):
            return isolated(f, "pci_quirk_brcm_acs", "Broadcom iProc root port")
        case 0x0014 where loongson.contains(f.deviceID):
            return isolated(f, "pci_quirk_loongson_acs", "Loongson root port")
        case 0x1c36 where f.deviceID == 0x0031 && portType == .rootPort:
            return isolated(f, "pci_quirk_al_acs", "Amazon Annapurna Labs root port")
        case 0x1957 where nxpRootPorts.contains(f.deviceID):
            return isolated(f, "pci_quirk_nxp_rp_acs", "NXP Layerscape root port")
        case 0x1d17 where portType == .rootPort || portType == .downstreamPort:
            if zhaoxinIsolatedPorts.contains(where: { $0.contains(f.deviceID) }) {
                return isolated(f, "pci_quirk_zhaoxin_pcie_ports_acs", "Zhaoxin PCIe port")
            }
            return context.overridden(f, portType: portType, instead: .notIsolated(
                why: "Zhaoxin port \(hex(f.vendorID, 4)):\(hex(f.deviceID, 4)) is not on the kernel's list of Zhaoxin ports that isolate (pci_quirk_zhaoxin_pcie_ports_acs), so the kernel counts it as not isolated whatever its ACS capability says",
                missing: []))
        case 0x8088:
            if wangxunIsolated.contains(where: { $0.contains(f.deviceID) }) {
                return isolated(f, "pci_quirk_wangxun_nic_acs", "Wangxun NIC")
            }
            return context.overridden(f, portType: portType, instead: .notIsolated(
                why: "Wangxun device \(hex(f.vendorID, 4)):\(hex(f.deviceID, 4)) is not on the kernel's list of Wangxun NICs that isolate (pci_quirk_wangxun_nic_acs), so the kernel counts it as not isolated whatever its ACS capability says",
                missing: []))
        default:
            break
        }
        return nil
    }

    /// `pci_quirk_qcom_rp_acs` (its rows come before the Intel PCH rows).
    static func qualcomm(_ f: PCIFunction) -> ACSPolicy.Verdict? {
        guard qualcommRootPorts[f.vendorID]?.contains(f.deviceID) == true else { return nil }
        return isolated(f, "pci_quirk_qcom_rp_acs", "Qualcomm/HXT root port")
    }

    /// `pci_quirk_amd_sb_acs` (the first rows of the table): RR and CR provided, which is all the isolation
    /// test needs of these functions, when multifunction, on a root bus, with an IVRS table.
    static func amdSouthbridge(_ f: PCIFunction, multifunction: Bool, context: ACSContext) -> ACSPolicy.Verdict? {
        guard amdSouthbridge[f.vendorID]?.contains(f.deviceID) == true, multifunction else { return nil }
        guard case .known(.rootBus, _) = f.position else {
            if case let .unknown(u) = f.position {
                return .unknown(Unknown("whether the AMD southbridge function \(f.address) counts as isolated (pci_quirk_amd_sb_acs) depends on whether it is on a root bus: \(u.reason)", remedy: u.remedy))
            }
            return nil
        }
        switch context.ivrsTable {
        case .known(true, let evidence):
            return .isolated(why: "AMD southbridge function \(hex(f.vendorID, 4)):\(hex(f.deviceID, 4)) on a root bus with an IVRS table (\(evidence); kernel quirk pci_quirk_amd_sb_acs)")
        case .known(false, _):
            return nil
        case let .unknown(u):
            return .unknown(Unknown("the AMD southbridge function \(f.address) counts as isolated only if the firmware has an ACPI IVRS table (pci_quirk_amd_sb_acs): \(u.reason)", remedy: u.remedy))
        }
    }
}

/// What the ACS quirks read besides the function: whether the firmware has an IVRS table, which kernel's
/// rules apply, and `pcie_acs_override` when the kernel carries that patch.
public struct ACSContext: Sendable {
    /// Whether `sys/firmware/acpi/tables/IVRS` exists (`pci_quirk_amd_sb_acs`).
    public var ivrsTable: Fact<Bool>
    /// The kernel whose rules are replayed.
    public var rules: KernelRuleSet
    /// `pcie_acs_override=` from the command line, parsed (`nil`: not given).
    public var override: ACSOverride?
    /// Whether the ACS controls read were set by a kernel with an IOMMU on: `pci_enable_acs` enables every
    /// implemented SV, RR, CR and UF only when an IOMMU driver asked for ACS (`pci_request_acs`). True where
    /// the kernel made groups; false where it made none (the IOMMU is off); unknown for an input without groups.
    public var controlsSetByKernel: Fact<Bool> = .known(true, evidence: "assumed: the input was read with the IOMMU on")
    /// Whether `pci=config_acs=` or `pci=disable_acs_redir=` changes what the kernel enables (unknown without a
    /// command line).
    public var acsParameters: Fact<Bool> = .known(false, evidence: "assumed: no ACS parameters")

    public init(ivrsTable: Fact<Bool> = .unknown("the input does not say whether the firmware has an ACPI IVRS table", remedy: "read sys/firmware/acpi/tables of the host"),
                rules: KernelRuleSet = .mainline(release: nil), override: ACSOverride? = nil) {
        self.ivrsTable = ivrsTable
        self.rules = rules
        self.override = override
    }

    /// The context of a host: its IVRS table, kernel release and command line.
    public init(_ model: HostModel) {
        let tables = model.environment.acpiTables
        switch tables {
        case let .known(names, evidence): ivrsTable = .known(names.contains("IVRS"), evidence: evidence)
        case let .unknown(u): ivrsTable = .unknown(u)
        }
        rules = KernelRuleSet(release: model.environment.kernelRelease)
        switch model.environment.groupSource {
        case .groupDirectory, .deviceLinks, .dumpLines:
            controlsSetByKernel = .known(true, evidence: "the kernel made IOMMU groups, so an IOMMU asked for ACS and pci_enable_acs set the controls")
        case .noneMade:
            controlsSetByKernel = .known(false, evidence: "the kernel made no IOMMU groups: with the IOMMU off, pci_enable_acs leaves ACS controls as the firmware set them")
        case let .none(u):
            controlsSetByKernel = .unknown(Unknown("whether the input was taken with the IOMMU on (when the kernel enables ACS) is unknown: \(u.reason)", remedy: u.remedy))
        }
        switch model.environment.kernelCommandLine {
        case let .known(line, evidence):
            let options = (model.environment.commandLineParameters["pci"] ?? "").split(separator: ",")
            let given = options.contains { $0.hasPrefix("config_acs=") || $0.hasPrefix("disable_acs_redir=") }
            acsParameters = .known(given, evidence: given ? "kernel command line: \(line)" : evidence)
        case let .unknown(u):
            acsParameters = .unknown(u)
        }
        override = model.environment.commandLineParameters["pcie_acs_override"].map(ACSOverride.init(parsing:)).flatMap { $0.isActive ? $0 : nil }
    }

    /// The answer `instead` of a quirk that sits after the place where carriers put the `pcie_acs_override`
    /// row: linux-zen and most others put it last (the quirk wins), Proxmox's kernel before the Ampere,
    /// Zhaoxin and Wangxun rows (the override wins for a device it covers). Unknown when the two disagree.
    func overridden(_ f: PCIFunction, portType: PCIExpress.PortType?, instead: ACSPolicy.Verdict) -> ACSPolicy.Verdict {
        guard let override, !instead.isIsolated, override.covers(f, portType: portType) != nil else { return instead }
        return .unknown(Unknown("pcie_acs_override=\(override.text) covers \(f.address), which a later quirk counts as not isolated: the kernel's answer depends on where its patch puts the override in the quirk table (last in linux-zen, before the Zhaoxin and Wangxun rows in Proxmox)",
                                remedy: "read the kernel's own IOMMU groups"))
    }
}

/// `pcie_acs_override=` as the out-of-tree patch (Alex Williamson's, carried by Proxmox, linux-zen and others)
/// defines it: comma-separated `downstream`, `multifunction` and `id:vvvv:dddd` (at most 15), each matched by
/// prefix. It answers only for PCI Express functions without an ACS capability (`pcie_acs_overrides`).
public struct ACSOverride: Hashable, Sendable {
    public let text: String
    public let downstream: Bool
    public let multifunction: Bool
    public let ids: [(vendor: UInt16, device: UInt16)]
    /// Tokens the patch would not take.
    public let ignored: [String]

    /// Whether it overrides anything (an empty `pcie_acs_override=` sets nothing).
    public var isActive: Bool { downstream || multifunction || !ids.isEmpty }

    public static func == (a: Self, b: Self) -> Bool { a.text == b.text }
    public func hash(into h: inout Hasher) { h.combine(text) }

    public init(parsing text: String) {
        self.text = text
        var downstream = false, multifunction = false
        var ids: [(UInt16, UInt16)] = []
        var ignored: [String] = []
        for token in text.split(separator: ",") {
            if token.hasPrefix("downstream") {
                downstream = true
            } else if token.hasPrefix("multifunction") {
                multifunction = true
            } else if token.hasPrefix("id:") {
                let parts = token.dropFirst(3).split(separator: ":")
                if parts.count == 2, let v = UInt16(parts[0], radix: 16), let d = UInt16(parts[1], radix: 16), ids.count < 15 {
                    ids.append((v, d))
                } else {
                    ignored.append(String(token))
                }
            } else {
                ignored.append(String(token))
            }
        }
        self.downstream = downstream
        self.multifunction = multifunction
        self.ids = ids
        self.ignored = ignored
    }

    /// Why the override counts `f` as isolated, or `nil` when it does not cover it. `portType` `nil`: not PCIe.
    public func covers(_ f: PCIFunction, portType: PCIExpress.PortType?) -> String? {
        guard case .known(nil, _) = f.acsCapability else { return nil }
        return wouldCover(f, portType: portType)
    }

    /// Why the override would count `f` as isolated if it had no ACS capability (its type and IDs only).
    public func wouldCover(_ f: PCIFunction, portType: PCIExpress.PortType?) -> String? {
        guard let type = portType else { return nil }
        if ids.contains(where: { $0.vendor == f.vendorID && $0.device == f.deviceID }) {
            return "pcie_acs_override=id:\(hex(f.vendorID, 4)):\(hex(f.deviceID, 4))"
        }
        if downstream, type == .downstreamPort || type == .rootPort {
            return "pcie_acs_override=downstream covers \(type.name)s without an ACS capability"
        }
        let mf = f.address.function > 0 || f.multifunctionBit
        if multifunction, mf, !f.isVirtualFunction,
           [.endpoint, .upstreamPort, .legacyEndpoint, .rootComplexIntegratedEndpoint].contains(type) {
            return "pcie_acs_override=multifunction covers multifunction \(type.name)s without an ACS capability"
        }
        return nil
    }
}

/// Which kernel's grouping rules are replayed, from the kernel release (`proc/sys/kernel/osrelease`).
/// Mainline's `pci_device_group` and `pci_acs_enabled` kept their rules from 5.x to 6.18 (REQ_ACS_FLAGS
/// unchanged); two releases lost the Intel PCH root-port quirk's isolation:
/// - 5.9: "PCI: Cache ACS capability offset in device" (52fbf5bdeeef) stopped enabling ACS on devices
///   without an ACS capability, so `pci_quirk_enable_intel_pch_acs` never ran; fixed for 5.10 ("PCI: Always
///   call pci_enable_acs() regardless of pdev->acs_cap"); whether a given 5.9.y carries the fix is unknown.
/// - 6.11.0–6.11.6: "PCI: Extend ACS configurability" (47c8846a49ba) did it again; fixed by f3c3ccc4fe49 in
///   6.12 and 6.11.7.
/// The 2025 series that recomputes groups for PCIe switches and multifunction devices ("Fix incorrect
/// iommu_groups with PCIe ACS", v3 on 6.17-rc4) was not merged into mainline as of 6.18 and is not replayed.
public enum KernelRuleSet: Hashable, Sendable {
    case mainline(release: String?)
    case pchQuirkLost(release: String, why: String)
    case pchQuirkMaybeLost(release: String, why: String)

    public init(release: String?) {
        guard let release else { self = .mainline(release: nil); return }
        let numbers = release.split(whereSeparator: { !$0.isNumber }).prefix(3).compactMap { Int($0) }
        let (major, minor, patch) = (numbers.first ?? 0, numbers.dropFirst().first ?? 0, numbers.dropFirst(2).first ?? 0)
        if major == 5 && minor == 9 {
            self = .pchQuirkMaybeLost(release: release, why: "Linux 5.9 stopped enabling the Intel PCH root-port ACS workaround (commit 52fbf5bdeeef); the fix went into 5.10 and possibly later 5.9.y releases")
        } else if major == 6 && minor == 11 && patch <= 6 {
            let why = "Linux 6.11.0 to 6.11.6 do not enable the Intel PCH root-port ACS workaround (commit 47c8846a49ba; fixed by f3c3ccc4fe49 in 6.11.7 and 6.12)"
            // A distribution's release string (6.11.0-19-generic) may carry the stable fix under an old number.
            let plain = release.allSatisfy { $0.isNumber || $0 == "." }
            self = plain ? .pchQuirkLost(release: release, why: why)
                : .pchQuirkMaybeLost(release: release, why: why + "; a distribution kernel (\(release)) may carry the fix")
        } else {
            self = .mainline(release: release)
        }
    }

    /// A stable name for the JSON: `mainline`, `pch-acs-quirk-lost`, `pch-acs-quirk-maybe-lost`.
    public var name: String {
        switch self {
        case .mainline: "mainline"
        case .pchQuirkLost: "pch-acs-quirk-lost"
        case .pchQuirkMaybeLost: "pch-acs-quirk-maybe-lost"
        }
    }

    public var release: String? {
        switch self {
        case let .mainline(r): r
        case let .pchQuirkLost(r, _), let .pchQuirkMaybeLost(r, _): r
        }
    }

    /// What the rule set changes, or why the plain mainline rules are used.
    public var explanation: String {
        switch self {
        case .mainline(nil): "the kernel release is not in the input: mainline's rules (unchanged from 5.10 to 6.18) are replayed"
        case let .mainline(r?): "Linux \(r): mainline's grouping rules (pci_device_group, pci_acs_enabled and the pci_dev_acs_enabled[] quirks of 6.18)"
        case let .pchQuirkLost(_, why), let .pchQuirkMaybeLost(_, why): why
        }
    }
}
