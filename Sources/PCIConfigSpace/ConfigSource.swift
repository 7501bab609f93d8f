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

    /// How many bytes from `offset` (at most `limit`) can be read without a gap: `limit` for a source whose
    /// readable bytes run from offset 0 without holes; fewer for a sparse one (`SparseConfigBytes`).
    func knownLength(at offset: Int, limit: Int) -> Int
}

extension ConfigSource {
    public func knownLength(at offset: Int, limit: Int) -> Int { limit }

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

/// Config space of which only some bytes are known: the registers lspci's text spells out, rebuilt at their
/// offsets. Every other byte reads as not readable (`nil`), never as zero, so a decoder sees a gap where the text
/// is silent.
public struct SparseConfigBytes: ConfigSource, Sendable, Equatable {
    public let storage: [UInt8]
    /// One flag per byte of `storage`: whether the input gave it.
    public let known: [Bool]
    public let readableCount: Int
    /// Which structure each byte belongs to (0 the header, then one number per capability): a register block read
    /// from a sparse source never runs on into the next capability's bytes, which the text gave for that one.
    public let regions: [UInt16]

    /// - Parameters:
    ///   - storage: the bytes, 64 to 4096 of them.
    ///   - known: whether each byte was given (same length as `storage`).
    ///   - regions: the structure each byte belongs to (same length).
    ///   - readableCount: the size the input implies for config space (64, 256 or 4096).
    public init(storage: [UInt8], known: [Bool], regions: [UInt16], readableCount: Int) {
        precondition(storage.count == known.count && storage.count == regions.count)
        self.storage = storage
        self.known = known
        self.regions = regions
        self.readableCount = min(readableCount, storage.count)
    }

    public func bytes(at offset: Int, count: Int) -> [UInt8]? {
        guard offset >= 0, count >= 0, offset <= readableCount - count else { return nil }
        for i in offset..<(offset + count) where !known[i] { return nil }
        return Array(storage[offset..<(offset + count)])
    }

    public func knownLength(at offset: Int, limit: Int) -> Int {
        guard offset >= 0, limit > 0 else { return 0 }
        guard offset < readableCount, known[offset] else { return 0 }
        let region = regions[offset]
        var n = 0
        while n < limit, offset + n < readableCount, known[offset + n], regions[offset + n] == region { n += 1 }
        return n
    }
}
