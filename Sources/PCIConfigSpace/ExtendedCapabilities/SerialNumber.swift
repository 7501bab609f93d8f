/// Device Serial Number (`PCI_EXT_CAP_ID_DSN`): a 64-bit EUI.
public struct SerialNumber: Hashable, Sendable, CustomStringConvertible {
    public static let length = 0x0c
    public let value: UInt64

    init(_ r: RegisterBlock) {
        value = r.u64(0x04)
    }

    /// As lspci prints it: most significant byte first, dash-separated.
    public var description: String {
        (0..<8).reversed().map { hex(UInt8(truncatingIfNeeded: value >> (8 * $0)), 2) }.joined(separator: "-")
    }
}
