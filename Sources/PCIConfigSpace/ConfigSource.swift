/// Where config-space bytes come from.
///
/// Decoders ask only for the bytes they decode, so a source backed by a live
/// `config` file performs one bus transaction per register actually needed.
/// A source answers `nil` for bytes it cannot supply (beyond what is readable);
/// it never invents them.
public protocol ConfigSource {
    /// How many bytes from offset 0 can be read (64 for a non-root reader of a live
    /// host, 256 for conventional PCI, 4096 for PCI Express with ECAM).
    var readableCount: Int { get }

    /// `count` bytes starting at `offset`, or `nil` when any of them is not readable.
    func bytes(at offset: Int, count: Int) -> [UInt8]?
}

extension ConfigSource {
    public func u8(_ offset: Int) -> UInt8? {
        bytes(at: offset, count: 1)?.first
    }

    public func u16(_ offset: Int) -> UInt16? {
        guard let b = bytes(at: offset, count: 2), b.count == 2 else { return nil }
        return UInt16(b[0]) | UInt16(b[1]) << 8
    }

    public func u32(_ offset: Int) -> UInt32? {
        guard let b = bytes(at: offset, count: 4), b.count == 4 else { return nil }
        return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
    }

    public func isReadable(_ offset: Int, count: Int = 1) -> Bool {
        offset >= 0 && count >= 0 && offset + count <= readableCount
    }
}

/// Config space held in memory: a snapshot file, a hex dump, a test vector.
public struct ConfigBytes: ConfigSource, Sendable, Equatable {
    public let storage: [UInt8]

    public init(_ storage: [UInt8]) {
        self.storage = storage
    }

    public var readableCount: Int { storage.count }

    public func bytes(at offset: Int, count: Int) -> [UInt8]? {
        guard offset >= 0, count >= 0, offset <= storage.count - count else { return nil }
        return Array(storage[offset..<(offset + count)])
    }
}
