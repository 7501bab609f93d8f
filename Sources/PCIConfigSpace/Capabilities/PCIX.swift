/// PCI-X (`PCI_CAP_ID_PCIX`). Mode 2 functions (266/533 MHz capable) have extended config space.
public struct PCIX: Hashable, Sendable {
    public enum Offset {
        /// `PCI_X_STATUS`
        public static let status = 0x04
    }
    public static let length = 0x08
    public let status: UInt32
    /// `PCI_X_STATUS_266MHZ | PCI_X_STATUS_533MHZ`: what the kernel checks before giving 4 KiB of config space.
    public var mode2Capable: Bool { status.bit(30) || status.bit(31) }

    init(_ r: RegisterBlock) {
        status = r.u32(Offset.status)
    }
}
