/// Latency Tolerance Reporting (`PCI_EXT_CAP_ID_LTR`).
public struct LTR: Hashable, Sendable {
    public static let length = 0x08
    public let maxSnoopLatency: UInt16
    public let maxNoSnoopLatency: UInt16

    init(_ r: RegisterBlock) {
        maxSnoopLatency = r.u16(0x04)
        maxNoSnoopLatency = r.u16(0x06)
    }
}

/// L1 PM Substates (`PCI_EXT_CAP_ID_L1SS`).
public struct L1PMSubstates: Hashable, Sendable {
    public static let length = 0x10
    public let capabilities: UInt32
    public let control1: UInt32
    public let control2: UInt32

    init(_ r: RegisterBlock) {
        capabilities = r.u32(0x04)
        control1 = r.u32(0x08)
        control2 = r.u32(0x0c)
    }
}

/// Secondary PCI Express (`PCI_EXT_CAP_ID_SECPCI`).
public struct SecondaryPCIe: Hashable, Sendable {
    public static let length = 0x0c
    public let linkControl3: UInt32
    public let laneErrorStatus: UInt32

    init(_ r: RegisterBlock) {
        linkControl3 = r.u32(0x04)
        laneErrorStatus = r.u32(0x08)
    }
}

/// Precision Time Measurement (`PCI_EXT_CAP_ID_PTM`).
public struct PTM: Hashable, Sendable {
    public static let length = 0x0c
    public let requesterCapable: Bool
    public let responderCapable: Bool
    public let rootCapable: Bool
    public let enabled: Bool

    init(_ r: RegisterBlock) {
        let cap = r.u32(0x04)
        requesterCapable = cap.bit(0)
        responderCapable = cap.bit(1)
        rootCapable = cap.bit(2)
        enabled = r.u32(0x08).bit(0)
    }
}

/// Virtual Channel and Multi-Function VC (`PCI_EXT_CAP_ID_VC`, `_VC9`, `_MFVC`).
public struct VirtualChannel: Hashable, Sendable {
    public static let length = 0x0c
    /// Extended VC count (VCs beyond VC0).
    public let extendedVCCount: Int
    public let lowPriorityExtendedVCCount: Int

    init(_ r: RegisterBlock) {
        let cap1 = r.u32(0x04)
        extendedVCCount = Int(cap1.bits(0, 3))
        lowPriorityExtendedVCCount = Int(cap1.bits(4, 3))
    }
}

/// Designated Vendor-Specific (`PCI_EXT_CAP_ID_DVSEC`): whose, which, how long.
public struct DVSEC: Hashable, Sendable {
    public static let length = 0x0a
    public let vendorID: UInt16
    public let revision: UInt8
    public let length: Int
    public let dvsecID: UInt16

    init(_ r: RegisterBlock) {
        let h1 = r.u32(0x04)
        vendorID = UInt16(h1 & 0xffff)
        revision = UInt8(h1.bits(16, 4))
        length = Int(h1 >> 20)
        dvsecID = r.u16(0x08)
    }
}

/// Data Link Feature (`PCI_EXT_CAP_ID_DLF`).
public struct DataLinkFeature: Hashable, Sendable {
    public static let length = 0x0c
    public let capabilities: UInt32
    public let status: UInt32

    init(_ r: RegisterBlock) {
        capabilities = r.u32(0x04)
        status = r.u32(0x08)
    }
}

/// Physical Layer 16.0 and 32.0 GT/s (`PCI_EXT_CAP_ID_PL_16GT`, `_PL_32GT`): capability, control, status.
public struct PhysicalLayer: Hashable, Sendable {
    public static let length = 0x10
    public let capabilities: UInt32
    public let control: UInt32
    public let status: UInt32

    init(_ r: RegisterBlock) {
        capabilities = r.u32(0x04)
        control = r.u32(0x08)
        status = r.u32(0x0c)
    }
}

/// Resizable BAR and VF Resizable BAR (`PCI_EXT_CAP_ID_REBAR`, `_VF_REBAR`).
public struct ResizableBAR: Hashable, Sendable {
    public struct Entry: Hashable, Sendable {
        /// Which BAR this entry resizes.
        public let barIndex: Int
        /// Supported sizes as a bit set: bit n means 2^(n+20) bytes (1 MiB << n).
        public let supportedSizes: UInt64
        /// Current size, 1 MiB << n.
        public let currentSizeLog2MiB: Int
    }

    public static let maximumLength = 0x34
    public let entries: [Entry]

    init(_ r: RegisterBlock) {
        let count = max(1, min(6, Int(r.u32(0x08).bits(5, 3))))
        var entries: [Entry] = []
        for i in 0..<count {
            let capOffset = 0x04 + 8 * i
            guard r.has(capOffset, 8) else { break }
            let cap = r.u32(capOffset)
            let ctl = r.u32(capOffset + 4)
            let sizes = UInt64(cap.bits(4, 28)) | UInt64(ctl >> 16) << 28
            entries.append(Entry(barIndex: Int(ctl.bits(0, 3)), supportedSizes: sizes, currentSizeLog2MiB: Int(ctl.bits(8, 6))))
        }
        self.entries = entries
    }
}
