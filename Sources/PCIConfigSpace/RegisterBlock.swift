/// The bytes of one capability, read once, with little-endian accessors relative to its start.
/// Accessors past the end read as absent (`has` says which registers are there).
public struct RegisterBlock: Hashable, Sendable {
    public let offset: Int
    public let bytes: [UInt8]

    public init(offset: Int, bytes: [UInt8]) {
        self.offset = offset
        self.bytes = bytes
    }

    /// Reads `length` bytes at `offset`, or as many as are readable; `nil` if not even `minimum` are.
    public static func read(_ source: some ConfigSource, at offset: Int, length: Int, minimum: Int) -> RegisterBlock? {
        // A sparse source (registers rebuilt from lspci's text) may know a capability's registers but not the
        // bytes after them: the block is what it knows without a gap.
        let available = source.knownLength(at: offset, limit: min(length, source.readableCount - offset))
        guard available >= minimum, let bytes = source.bytes(at: offset, count: available) else { return nil }
        return RegisterBlock(offset: offset, bytes: bytes)
    }

    public func has(_ o: Int, _ count: Int = 1) -> Bool { o >= 0 && o + count <= bytes.count }
    public func u8(_ o: Int) -> UInt8 { has(o) ? bytes[o] : 0 }
    public func u16(_ o: Int) -> UInt16 { has(o, 2) ? UInt16(bytes[o]) | UInt16(bytes[o + 1]) << 8 : 0 }
    public func u32(_ o: Int) -> UInt32 { has(o, 4) ? UInt32(u16(o)) | UInt32(u16(o + 2)) << 16 : 0 }
    public func u64(_ o: Int) -> UInt64 { has(o, 8) ? UInt64(u32(o)) | UInt64(u32(o + 4)) << 32 : 0 }
}
