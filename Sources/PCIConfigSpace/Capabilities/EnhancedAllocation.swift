/// Enhanced Allocation (`PCI_CAP_ID_EA`): fixed resources instead of BARs.
public struct EnhancedAllocation: Hashable, Sendable {
    public static let length = 0x04
    public let numberOfEntries: Int

    init(_ r: RegisterBlock) {
        numberOfEntries = Int(r.u8(0x02) & 0x3f)
    }
}
