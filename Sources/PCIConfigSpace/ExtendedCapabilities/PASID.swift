/// Process Address Space ID (`PCI_EXT_CAP_ID_PASID`).
public struct PASID: Hashable, Sendable {
    public static let length = 0x08
    public let executeSupported: Bool
    public let privilegedSupported: Bool
    /// Max PASID width in bits.
    public let width: Int
    /// `PCI_PASID_CTRL_ENABLE`
    public let enabled: Bool
    public let executeEnabled: Bool
    public let privilegedEnabled: Bool

    init(_ r: RegisterBlock) {
        let cap = r.u16(0x04)
        executeSupported = cap.bit(1)
        privilegedSupported = cap.bit(2)
        width = Int(cap.bits(8, 5))
        let ctl = r.u16(0x06)
        enabled = ctl.bit(0)
        executeEnabled = ctl.bit(1)
        privilegedEnabled = ctl.bit(2)
    }
}
