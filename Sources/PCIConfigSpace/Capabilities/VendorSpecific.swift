/// Vendor-specific capability (`PCI_CAP_ID_VNDR`): only its length is architected.
public struct VendorSpecific: Hashable, Sendable {
    public static let length = 0x03
    public let length: UInt8

    init(_ r: RegisterBlock) {
        length = r.u8(0x02)
    }
}
