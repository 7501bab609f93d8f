/// MSI-X (`PCI_CAP_ID_MSIX`).
public struct MSIX: Hashable, Sendable {
    public enum Offset {
        /// `PCI_MSIX_FLAGS`
        public static let control = 0x02
        /// `PCI_MSIX_TABLE`
        public static let table = 0x04
        /// `PCI_MSIX_PBA`
        public static let pba = 0x08
    }
    public static let length = 0x0c

    public let enabled: Bool
    public let functionMask: Bool
    public let tableSize: Int
    public let tableBIR: UInt8
    public let tableOffset: UInt32
    public let pbaBIR: UInt8
    public let pbaOffset: UInt32

    init(_ r: RegisterBlock) {
        let c = r.u16(Offset.control)
        tableSize = Int(c.bits(0, 11)) + 1
        functionMask = c.bit(14)
        enabled = c.bit(15)
        let t = r.u32(Offset.table)
        tableBIR = UInt8(t & 7)
        tableOffset = t & ~7
        let p = r.u32(Offset.pba)
        pbaBIR = UInt8(p & 7)
        pbaOffset = p & ~7
    }
}
