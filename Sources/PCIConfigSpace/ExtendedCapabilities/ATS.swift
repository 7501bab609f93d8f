/// Address Translation Services (`PCI_EXT_CAP_ID_ATS`). A VF's ATS state is partly its PF's.
public struct ATS: Hashable, Sendable {
    public static let length = 0x08
    /// Invalidate queue depth (0 encodes 32).
    public let invalidateQueueDepth: Int
    public let pageAligned: Bool
    public let globalInvalidate: Bool
    /// `PCI_ATS_CTRL_ENABLE`
    public let enabled: Bool
    /// Smallest Translation Unit, as log2(size) - 12.
    public let smallestTranslationUnit: UInt8

    init(_ r: RegisterBlock) {
        let cap = r.u16(0x04)
        let depth = Int(cap.bits(0, 5))
        invalidateQueueDepth = depth == 0 ? 32 : depth
        pageAligned = cap.bit(5)
        globalInvalidate = cap.bit(6)
        let ctl = r.u16(0x06)
        smallestTranslationUnit = UInt8(ctl.bits(0, 5))
        enabled = ctl.bit(15)
    }
}
