/// One entry of the capability list at 0x34.
public struct Capability: Hashable, Sendable {
    public let id: CapabilityID
    public let offset: Int
    public let body: CapabilityBody
}

/// One entry of the extended capability chain at 0x100.
public struct ExtendedCapability: Hashable, Sendable {
    public let id: ExtendedCapabilityID
    public let version: UInt8
    public let offset: Int
    public let body: ExtendedCapabilityBody
}

/// Whether a part of config space could be examined at all.
public enum Coverage: String, Hashable, Sendable {
    /// Read and walked.
    case complete
    /// Not readable (a non-root reader sees 64 bytes; a dump may hold 256): unknown, not absent.
    case unreadable
    /// The function has none (no capability-list bit; not PCI Express or PCI-X mode 2 for extended space).
    case notImplemented
}

/// Walks the two chains the way lspci does (masked pointers, a visited set, stop on ID 0xff and
/// on an all-zero or all-ones extended header) and records every problem instead of failing.
enum CapabilityChain {
    /// `stopAt`: end the walk at the first capability with this ID (reading no pointer past it).
    static func walkStandard(_ source: some ConfigSource, header: ConfigHeader, diagnostics: inout [Diagnostic],
                             stopAt: CapabilityID? = nil) -> (entries: [(CapabilityID, Int)], coverage: Coverage) {
        guard header.hasCapabilityList, let pointer = header.capabilitiesPointer else { return ([], .notImplemented) }
        var entries: [(CapabilityID, Int)] = []
        var visited = Set<Int>()
        var offset = Int(pointer & 0xfc)
        var coverage = Coverage.complete
        while offset != 0 {
            if offset < HeaderOffset.size {
                diagnostics.append(.init(code: "capability-pointer-into-header",
                    message: "a capability pointer leads to 0x\(hex(offset, 2)), inside the standard header; the list ends there"))
                break
            }
            guard let idByte = source.u8(offset), let next = source.u8(offset + 1) else {
                coverage = .unreadable
                diagnostics.append(.init(code: "capabilities-unreadable",
                    message: "the capability at 0x\(hex(offset, 2)) lies beyond the \(source.readableCount) readable bytes; the rest of the list is unknown"))
                break
            }
            guard visited.insert(offset).inserted else {
                diagnostics.append(.init(code: "capability-chain-loop",
                    message: "the capability list loops back to 0x\(hex(offset, 2))"))
                break
            }
            if idByte == 0xff {
                diagnostics.append(.init(code: "capability-chain-broken",
                    message: "the capability at 0x\(hex(offset, 2)) reads ID 0xff (chain broken, or the function stopped answering)"))
                break
            }
            entries.append((CapabilityID(rawValue: idByte), offset))
            if let stopAt, idByte == stopAt.rawValue { break }
            offset = Int(next & 0xfc)
        }
        return (entries, coverage)
    }

    static func walkExtended(_ source: some ConfigSource,
                             diagnostics: inout [Diagnostic]) -> (entries: [(ExtendedCapabilityID, UInt8, Int)], coverage: Coverage) {
        var entries: [(ExtendedCapabilityID, UInt8, Int)] = []
        var visited = Set<Int>()
        var offset = 0x100
        guard source.isReadable(offset, count: 4) else { return ([], .unreadable) }
        while offset != 0 {
            guard let header = source.u32(offset) else {
                diagnostics.append(.init(code: "extended-capabilities-unreadable",
                    message: "the extended capability at 0x\(hex(offset, 3)) lies beyond the \(source.readableCount) readable bytes; the rest of the chain is unknown"))
                return (entries, .unreadable)
            }
            if header == 0xffff_ffff {
                // An all-ones read is a read that failed, not the end of a chain: at 0x100 the kernel takes it as
                // no extended space it can read (pci_cfg_space_size_ext), elsewhere the rest of the chain is unknown.
                diagnostics.append(.init(code: offset == 0x100 ? "extended-space-unreadable" : "extended-chain-broken",
                    message: offset == 0x100
                        ? "extended config space reads all ones at 0x100: it is not readable (the kernel then sizes config space at 256 bytes)"
                        : "the extended capability at 0x\(hex(offset, 3)) reads all ones; the rest of the chain is unknown"))
                return (entries, .unreadable)
            }
            if header == 0 { break }
            guard visited.insert(offset).inserted else {
                diagnostics.append(.init(code: "extended-chain-loop", message: "the extended capability chain loops back to 0x\(hex(offset, 3))"))
                break
            }
            entries.append((ExtendedCapabilityID(rawValue: UInt16(header & 0xffff)), UInt8((header >> 16) & 0xf), offset))
            let next = Int((header >> 20) & 0xffc)
            if next != 0 && next < 0x100 {
                diagnostics.append(.init(code: "extended-pointer-into-standard-space",
                    message: "the extended capability at 0x\(hex(offset, 3)) points to 0x\(hex(next, 3)), below 0x100; the chain ends there"))
                break
            }
            offset = next
        }
        return (entries, .complete)
    }
}
