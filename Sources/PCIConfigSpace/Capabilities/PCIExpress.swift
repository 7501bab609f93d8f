/// The PCI Express capability (`PCI_CAP_ID_EXP`): port type, FLR, link, slot, DevCap2.
public struct PCIExpress: Hashable, Sendable {
    public enum Offset {
        /// `PCI_EXP_FLAGS`
        public static let flags = 0x02
        /// `PCI_EXP_DEVCAP`
        public static let deviceCapabilities = 0x04
        /// `PCI_EXP_DEVCTL`
        public static let deviceControl = 0x08
        /// `PCI_EXP_DEVSTA`
        public static let deviceStatus = 0x0a
        /// `PCI_EXP_LNKCAP`
        public static let linkCapabilities = 0x0c
        /// `PCI_EXP_LNKCTL`
        public static let linkControl = 0x10
        /// `PCI_EXP_LNKSTA`
        public static let linkStatus = 0x12
        /// `PCI_EXP_SLTCAP`
        public static let slotCapabilities = 0x14
        /// `PCI_EXP_SLTCTL`
        public static let slotControl = 0x18
        /// `PCI_EXP_SLTSTA`
        public static let slotStatus = 0x1a
        /// `PCI_EXP_DEVCAP2`
        public static let deviceCapabilities2 = 0x24
        /// `PCI_EXP_DEVCTL2`
        public static let deviceControl2 = 0x28
        /// `PCI_EXP_LNKCAP2`
        public static let linkCapabilities2 = 0x2c
    }
    /// Version 2 capabilities are 0x3c bytes; version 1 ones may end after the root registers.
    public static let length = 0x3c
    public static let minimumLength = 0x0c

    /// Device/port type (bits 4–7 of the flags register).
    public struct PortType: RawRepresentable, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// `PCI_EXP_TYPE_ENDPOINT`
        public static let endpoint = Self(rawValue: 0x0)
        /// `PCI_EXP_TYPE_LEG_END`
        public static let legacyEndpoint = Self(rawValue: 0x1)
        /// `PCI_EXP_TYPE_ROOT_PORT`
        public static let rootPort = Self(rawValue: 0x4)
        /// `PCI_EXP_TYPE_UPSTREAM`
        public static let upstreamPort = Self(rawValue: 0x5)
        /// `PCI_EXP_TYPE_DOWNSTREAM`
        public static let downstreamPort = Self(rawValue: 0x6)
        /// `PCI_EXP_TYPE_PCI_BRIDGE`
        public static let pcieToPCIBridge = Self(rawValue: 0x7)
        /// `PCI_EXP_TYPE_PCIE_BRIDGE`
        public static let pciToPCIeBridge = Self(rawValue: 0x8)
        /// `PCI_EXP_TYPE_RC_END`
        public static let rootComplexIntegratedEndpoint = Self(rawValue: 0x9)
        /// `PCI_EXP_TYPE_RC_EC`
        public static let rootComplexEventCollector = Self(rawValue: 0xa)

        /// The JSON name; reserved values keep their number.
        public var name: String {
            switch self {
            case .endpoint: "endpoint"
            case .legacyEndpoint: "legacyEndpoint"
            case .rootPort: "rootPort"
            case .upstreamPort: "upstreamPort"
            case .downstreamPort: "downstreamPort"
            case .pcieToPCIBridge: "pcieToPCIBridge"
            case .pciToPCIeBridge: "pciToPCIeBridge"
            case .rootComplexIntegratedEndpoint: "rootComplexIntegratedEndpoint"
            case .rootComplexEventCollector: "rootComplexEventCollector"
            default: "reserved\(rawValue)"
            }
        }

        /// Ports whose secondary side is a PCIe link the kernel checks for ACS (`pcie_downstream_port`).
        public var isDownstreamPort: Bool { self == .rootPort || self == .downstreamPort }
    }

    public let version: UInt8
    public let portType: PortType
    public let slotImplemented: Bool
    /// Max payload supported, bytes.
    public let maxPayloadSupported: Int
    public let maxPayload: Int
    public let maxReadRequest: Int
    /// `PCI_EXP_DEVCAP_FLR`
    public let flrCapable: Bool
    public let extendedTagSupported: Bool
    /// Link capabilities: max speed code (1 = 2.5 GT/s …), max width, port number.
    public let linkCapabilities: UInt32?
    public let linkStatus: UInt16?
    public let slotCapabilities: UInt32?
    public let deviceCapabilities2: UInt32?
    public let deviceControl2: UInt16?
    /// `PCI_EXP_LNKCAP2` (version 2 capabilities of functions with a link): bits 1–7 are the Supported Link
    /// Speeds Vector (PCIe r6.0 §7.5.3.18), bit k set for speed code k.
    public let linkCapabilities2: UInt32?

    public var maxLinkSpeed: LinkSpeed? { linkCapabilities.map { LinkSpeed(code: UInt8($0.bits(0, 4))) } }
    public var maxLinkWidth: Int? { linkCapabilities.map { Int($0.bits(4, 6)) } }
    public var portNumber: Int? { linkCapabilities.map { Int($0 >> 24) } }
    public var linkSpeed: LinkSpeed? { linkStatus.map { LinkSpeed(code: UInt8($0.bits(0, 4))) } }
    public var linkWidth: Int? { linkStatus.map { Int($0.bits(4, 6)) } }
    /// `PCI_EXP_LNKCAP_DLLLARC`: the port reports Data Link Layer Link Active (needed to wait out a bus reset).
    public var dataLinkActiveReporting: Bool? { linkCapabilities.map { $0.bit(20) } }
    /// `PCI_EXP_SLTCAP_HPC`
    public var hotPlugCapable: Bool? { slotImplemented ? slotCapabilities.map { $0.bit(6) } : nil }
    public var hotPlugSurprise: Bool? { slotImplemented ? slotCapabilities.map { $0.bit(5) } : nil }
    public var physicalSlotNumber: Int? { slotImplemented ? slotCapabilities.map { Int($0 >> 19) } : nil }
    /// `PCI_EXP_DEVCAP2_ARI`
    public var ariForwardingSupported: Bool? { deviceCapabilities2.map { $0.bit(5) } }
    /// `PCI_EXP_DEVCTL2_ARI`
    public var ariForwardingEnabled: Bool? { deviceControl2.map { $0.bit(5) } }
    /// `PCI_EXP_DEVCAP2_ATOMIC_ROUTE`, `_COMP32`, `_COMP64`, `_COMP128`.
    public var atomicOpRouting: Bool? { deviceCapabilities2.map { $0.bit(6) } }
    public var atomicOp32Completer: Bool? { deviceCapabilities2.map { $0.bit(7) } }
    public var atomicOp64Completer: Bool? { deviceCapabilities2.map { $0.bit(8) } }
    public var atomicOp128CASCompleter: Bool? { deviceCapabilities2.map { $0.bit(9) } }

    /// The capability's registers this type decodes, read from `source` with the capability at `offset`;
    /// `nil` when not even the first `minimumLength` bytes are readable, or when a read fails.
    ///
    /// The block spans what `RegisterBlock.read` would give (up to `length` bytes without a gap), but only the
    /// registers `init` decodes are fetched: the header through the device status always, the link registers
    /// unless the function has no link (root complex integrated endpoints and event collectors), the slot
    /// capabilities only when the flags say a slot is implemented, and DevCap2 through LnkCap2 only for a version
    /// 2 capability (PCIe r6.0 §7.5.3: the slot registers belong to ports with a slot; the root and second slot
    /// registers are never decoded here). Bytes not fetched read as zero and no accessor of `init` looks at them,
    /// so the decoded value equals the whole block's when every read succeeds; a read that fails in a register
    /// fetched makes the capability unreadable (`nil`), one in a register skipped is never made. On a live host
    /// each skipped dword is a config transaction not made (lspci -vvv skips the same registers).
    static func registers(in source: some ConfigSource, at offset: Int) -> RegisterBlock? {
        let available = source.knownLength(at: offset, limit: min(length, source.readableCount - offset))
        guard available >= minimumLength else { return nil }
        var bytes = [UInt8](repeating: 0, count: available)
        func fetch(_ range: Range<Int>) -> Bool {
            let wanted = range.clamped(to: 0..<available)
            guard !wanted.isEmpty else { return true }
            guard let read = source.bytes(at: offset + wanted.lowerBound, count: wanted.count) else { return false }
            bytes.replaceSubrange(wanted, with: read)
            return true
        }
        // The first dword (ID, next pointer, flags) the capability walk has read already; the flags say what follows.
        guard fetch(0..<Offset.deviceCapabilities) else { return nil }
        let flags = UInt16(bytes[Offset.flags]) | UInt16(bytes[Offset.flags + 1]) << 8
        let hasLink = Self.hasLink(PortType(rawValue: UInt8(flags.bits(4, 4))))
        guard fetch(Offset.deviceCapabilities..<(hasLink ? Offset.slotCapabilities : Offset.linkCapabilities)) else { return nil }
        if flags.bit(8), !fetch(Offset.slotCapabilities..<(Offset.slotCapabilities + 4)) { return nil }
        if flags.bits(0, 4) >= 2,
           !fetch(Offset.deviceCapabilities2..<(hasLink ? Offset.linkCapabilities2 + 4 : Offset.deviceControl2 + 2)) {
            return nil
        }
        return RegisterBlock(offset: offset, bytes: bytes)
    }

    /// Root complex integrated endpoints and event collectors have no link registers (PCIe r6.0 §7.5.3).
    static func hasLink(_ type: PortType) -> Bool {
        type != .rootComplexIntegratedEndpoint && type != .rootComplexEventCollector
    }

    init(_ r: RegisterBlock) {
        let flags = r.u16(Offset.flags)
        version = UInt8(flags.bits(0, 4))
        portType = PortType(rawValue: UInt8(flags.bits(4, 4)))
        slotImplemented = flags.bit(8)
        let devcap = r.u32(Offset.deviceCapabilities)
        maxPayloadSupported = 128 << Int(devcap.bits(0, 3))
        extendedTagSupported = devcap.bit(5)
        flrCapable = devcap.bit(28)
        let devctl = r.u16(Offset.deviceControl)
        maxPayload = 128 << Int(devctl.bits(5, 3))
        maxReadRequest = 128 << Int(devctl.bits(12, 3))
        let hasLink = Self.hasLink(portType)
        linkCapabilities = hasLink && r.has(Offset.linkCapabilities, 4) ? r.u32(Offset.linkCapabilities) : nil
        linkStatus = hasLink && r.has(Offset.linkStatus, 2) ? r.u16(Offset.linkStatus) : nil
        slotCapabilities = slotImplemented && r.has(Offset.slotCapabilities, 4) ? r.u32(Offset.slotCapabilities) : nil
        let v2 = version >= 2
        deviceCapabilities2 = v2 && r.has(Offset.deviceCapabilities2, 4) ? r.u32(Offset.deviceCapabilities2) : nil
        deviceControl2 = v2 && r.has(Offset.deviceControl2, 2) ? r.u16(Offset.deviceControl2) : nil
        linkCapabilities2 = v2 && hasLink && r.has(Offset.linkCapabilities2, 4) ? r.u32(Offset.linkCapabilities2) : nil
    }
}

/// A PCIe link speed code (LnkCap/LnkSta bits 0–3).
public struct LinkSpeed: Hashable, Sendable, CustomStringConvertible {
    public let code: UInt8
    public var description: String {
        switch code {
        case 1: "2.5GT/s"
        case 2: "5GT/s"
        case 3: "8GT/s"
        case 4: "16GT/s"
        case 5: "32GT/s"
        case 6: "64GT/s"
        default: "unknown (\(code))"
        }
    }
}
