/// The seven ACS controls, as a bit set shared by the capability and control registers.
public struct ACSFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// `PCI_ACS_SV`
    public static let sourceValidation = Self(rawValue: 1 << 0)
    /// `PCI_ACS_TB`
    public static let translationBlocking = Self(rawValue: 1 << 1)
    /// `PCI_ACS_RR`
    public static let requestRedirect = Self(rawValue: 1 << 2)
    /// `PCI_ACS_CR`
    public static let completionRedirect = Self(rawValue: 1 << 3)
    /// `PCI_ACS_UF`
    public static let upstreamForwarding = Self(rawValue: 1 << 4)
    /// `PCI_ACS_EC`
    public static let egressControl = Self(rawValue: 1 << 5)
    /// `PCI_ACS_DT`
    public static let directTranslatedP2P = Self(rawValue: 1 << 6)

    /// What the kernel requires for isolation (`REQ_ACS_FLAGS` in drivers/iommu/iommu.c).
    public static let isolationRequired: Self = [.sourceValidation, .requestRedirect, .completionRedirect, .upstreamForwarding]

    public static let all: [(Self, String)] = [
        (.sourceValidation, "SrcValid"), (.translationBlocking, "TransBlk"), (.requestRedirect, "ReqRedir"),
        (.completionRedirect, "CmpltRedir"), (.upstreamForwarding, "UpstreamFwd"), (.egressControl, "EgressCtrl"),
        (.directTranslatedP2P, "DirectTrans"),
    ]

    /// lspci's names of the flags in this set, in bit order.
    public var names: [String] { Self.all.filter { contains($0.0) }.map(\.1) }
}

/// Access Control Services (`PCI_EXT_CAP_ID_ACS`).
public struct ACS: Hashable, Sendable {
    public enum Offset {
        /// `PCI_ACS_CAP`
        public static let capability = 0x04
        /// `PCI_ACS_CTRL`
        public static let control = 0x06
    }
    public static let length = 0x08

    public let capability: ACSFlags
    public let control: ACSFlags
    /// Egress control vector size (bits 8–15 of the capability register; 0 means 256).
    public let egressControlVectorSize: Int
    /// The dword at +8 when readable: the Egress Control Vector where EC is implemented. Intel Sunrise Point and
    /// Union Point PCH root ports keep their real ACS control there instead of at +6 (kernel
    /// `pci_quirk_intel_spt_pch_acs`, `INTEL_SPT_ACS_CTRL`).
    public let dwordAt8: UInt32?

    init(_ r: RegisterBlock) {
        let cap = r.u16(Offset.capability)
        capability = ACSFlags(rawValue: cap & 0x7f)
        control = ACSFlags(rawValue: r.u16(Offset.control) & 0x7f)
        let size = Int(cap >> 8)
        egressControlVectorSize = size == 0 ? 256 : size
        dwordAt8 = r.has(0x08, 4) ? r.u32(0x08) : nil
    }

    /// The kernel's `pci_acs_enabled` test: a flag the capability does not implement counts as enabled.
    public func effectivelyEnabled(_ flags: ACSFlags) -> Bool {
        flags.subtracting(capability).union(control.intersection(flags)) == flags
    }

    /// Flags among `flags` that are implemented but not enabled.
    public func missing(_ flags: ACSFlags) -> ACSFlags {
        flags.intersection(capability).subtracting(control)
    }
}
