/// Alternative Routing-ID Interpretation (`PCI_EXT_CAP_ID_ARI`).
public struct ARI: Hashable, Sendable {
    public static let length = 0x08
    public let mfvcFunctionGroups: Bool
    public let acsFunctionGroups: Bool
    /// The next function number in the ARI chain (0 ends it).
    public let nextFunction: UInt8
    public let mfvcFunctionGroupsEnabled: Bool
    public let acsFunctionGroupsEnabled: Bool
    public let functionGroup: UInt8

    init(_ r: RegisterBlock) {
        let cap = r.u16(0x04)
        mfvcFunctionGroups = cap.bit(0)
        acsFunctionGroups = cap.bit(1)
        nextFunction = UInt8(cap >> 8)
        let ctl = r.u16(0x06)
        mfvcFunctionGroupsEnabled = ctl.bit(0)
        acsFunctionGroupsEnabled = ctl.bit(1)
        functionGroup = UInt8(ctl.bits(4, 3))
    }
}
