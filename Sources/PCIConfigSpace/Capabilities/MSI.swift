/// MSI (`PCI_CAP_ID_MSI`).
public struct MSI: Hashable, Sendable {
    public enum Offset {
        /// `PCI_MSI_FLAGS`
        public static let control = 0x02
    }
    public static let length = 0x04

    public let enabled: Bool
    /// Vectors the function can request (1, 2, 4 … 32).
    public let vectorsCapable: Int
    public let vectorsEnabled: Int
    public let is64Bit: Bool
    public let perVectorMasking: Bool

    init(_ r: RegisterBlock) {
        let c = r.u16(Offset.control)
        enabled = c.bit(0)
        vectorsCapable = 1 << Int(c.bits(1, 3))
        vectorsEnabled = 1 << Int(c.bits(4, 3))
        is64Bit = c.bit(7)
        perVectorMasking = c.bit(8)
    }
}
