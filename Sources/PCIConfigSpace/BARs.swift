/// A Base Address Register as config space shows it. Sizes are not here: finding them needs a
/// sizing write, which this tool never does; the host layer adds them from sysfs `resource`.
public struct BAR: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        case io
        case memory32
        case memory64
        /// Type 01b (below 1 MiB, PCI 2.x), reserved since.
        case memoryReserved
    }

    public let index: Int
    public let kind: Kind
    public let prefetchable: Bool
    /// The address bits (flags masked off); 64-bit BARs include their upper half.
    public let address: UInt64

    /// Type 0 has six BARs, type 1 two, type 2 none here. A 64-bit BAR consumes the next slot.
    static func decode(header: ConfigHeader, source: some ConfigSource) -> [BAR] {
        let count: Int
        switch header.layout {
        case .endpoint: count = 6
        case .bridge: count = 2
        default: count = 0
        }
        var bars: [BAR] = []
        var i = 0
        while i < count {
            guard let low = source.u32(HeaderOffset.bar0 + 4 * i) else { break }
            if low & 1 == 1 {
                if low & ~3 != 0 { bars.append(BAR(index: i, kind: .io, prefetchable: false, address: UInt64(low & ~3))) }
                i += 1
                continue
            }
            let type = (low >> 1) & 3
            let prefetchable = low & 8 != 0
            if type == 2, i + 1 < count, let high = source.u32(HeaderOffset.bar0 + 4 * (i + 1)) {
                let address = UInt64(high) << 32 | UInt64(low & ~0xf)
                bars.append(BAR(index: i, kind: .memory64, prefetchable: prefetchable, address: address))
                i += 2
                continue
            }
            if low & ~0xf != 0 {
                bars.append(BAR(index: i, kind: type == 1 ? .memoryReserved : .memory32, prefetchable: prefetchable, address: UInt64(low & ~0xf)))
            }
            i += 1
        }
        return bars
    }
}

/// The expansion ROM BAR (0x30 in type 0, 0x38 in type 1).
public struct ExpansionROM: Hashable, Sendable {
    public let address: UInt32
    public let enabled: Bool

    static func decode(header: ConfigHeader, source: some ConfigSource) -> ExpansionROM? {
        let offset: Int
        switch header.layout {
        case .endpoint: offset = 0x30
        case .bridge: offset = 0x38
        default: return nil
        }
        guard let raw = source.u32(offset), raw & ~0x7ff != 0 else { return nil }
        return ExpansionROM(address: raw & ~0x7ff, enabled: raw & 1 == 1)
    }
}

/// A bridge's forwarding windows (type 1 header).
public struct BridgeWindows: Hashable, Sendable {
    public struct Window: Hashable, Sendable {
        public let base: UInt64
        public let limit: UInt64
        public var isOpen: Bool { base <= limit }
    }

    public let io: Window?
    public let memory: Window
    public let prefetchable: Window
    public let prefetchable64Bit: Bool
    /// Bridge control bit 6 (`PCI_BRIDGE_CTL_BUS_RESET`) reads as currently asserted.
    public let secondaryBusResetAsserted: Bool

    static func decode(header: ConfigHeader, source: some ConfigSource) -> BridgeWindows? {
        guard header.layout == .bridge, let b = source.bytes(at: 0x1c, count: 0x24) else { return nil }
        func u16(_ o: Int) -> UInt32 { UInt32(b[o - 0x1c]) | UInt32(b[o - 0x1c + 1]) << 8 }
        func u32(_ o: Int) -> UInt32 { u16(o) | u16(o + 2) << 16 }
        let ioBase = UInt32(b[0]), ioLimit = UInt32(b[1])
        var io: Window?
        if ioBase != 0 || ioLimit != 0 {
            let wide = ioBase & 0xf == 1
            let base = (ioBase & 0xf0) << 8 | (wide ? u16(0x30) << 16 : 0)
            let limit = (ioLimit & 0xf0) << 8 | 0xfff | (wide ? u16(0x32) << 16 : 0)
            io = Window(base: UInt64(base), limit: UInt64(limit))
        }
        let memory = Window(base: UInt64(u16(0x20) & 0xfff0) << 16, limit: UInt64(u16(0x22) & 0xfff0) << 16 | 0xfffff)
        let pfBase = u16(0x24), pfLimit = u16(0x26)
        let wide = pfBase & 0xf == 1
        let prefetchable = Window(
            base: UInt64(pfBase & 0xfff0) << 16 | (wide ? UInt64(u32(0x28)) << 32 : 0),
            limit: UInt64(pfLimit & 0xfff0) << 16 | 0xfffff | (wide ? UInt64(u32(0x2c)) << 32 : 0))
        let control = u16(0x3e)
        return BridgeWindows(io: io, memory: memory, prefetchable: prefetchable, prefetchable64Bit: wide,
                             secondaryBusResetAsserted: control & 0x40 != 0)
    }
}
