/// Page Request Interface (`PCI_EXT_CAP_ID_PRI`).
public struct PRI: Hashable, Sendable {
    public static let length = 0x10
    /// `PCI_PRI_CTRL_ENABLE`
    public let enabled: Bool
    public let stopped: Bool
    public let outstandingCapacity: UInt32
    public let outstandingAllocation: UInt32

    init(_ r: RegisterBlock) {
        enabled = r.u16(0x04).bit(0)
        stopped = r.u16(0x06).bit(8)
        outstandingCapacity = r.u32(0x08)
        outstandingAllocation = r.u32(0x0c)
    }
}
