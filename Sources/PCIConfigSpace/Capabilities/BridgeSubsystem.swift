/// Subsystem IDs of a PCI-to-PCI bridge (`PCI_CAP_ID_SSVID`).
public struct BridgeSubsystem: Hashable, Sendable {
    public static let length = 0x08
    public let subsystemVendorID: UInt16
    public let subsystemID: UInt16

    init(_ r: RegisterBlock) {
        subsystemVendorID = r.u16(0x04)
        subsystemID = r.u16(0x06)
    }
}
