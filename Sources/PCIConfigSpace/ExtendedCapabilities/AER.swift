/// Advanced Error Reporting (`PCI_EXT_CAP_ID_ERR`): the status, mask and severity registers.
public struct AER: Hashable, Sendable {
    public static let length = 0x18
    public let uncorrectableStatus: UInt32
    public let uncorrectableMask: UInt32
    public let uncorrectableSeverity: UInt32
    public let correctableStatus: UInt32
    public let correctableMask: UInt32
    public let capabilitiesAndControl: UInt32

    init(_ r: RegisterBlock) {
        uncorrectableStatus = r.u32(0x04)
        uncorrectableMask = r.u32(0x08)
        uncorrectableSeverity = r.u32(0x0c)
        correctableStatus = r.u32(0x10)
        correctableMask = r.u32(0x14)
        capabilitiesAndControl = r.has(0x18, 4) ? r.u32(0x18) : 0
    }
}
