/// PCI Advanced Features (`PCI_CAP_ID_AF`): FLR for conventional PCI functions.
public struct AdvancedFeatures: Hashable, Sendable {
    public enum Offset {
        /// `PCI_AF_LENGTH`
        public static let length = 0x02
        /// `PCI_AF_CAP`
        public static let capabilities = 0x03
        /// `PCI_AF_CTRL`
        public static let control = 0x04
        /// `PCI_AF_STATUS`
        public static let status = 0x05
    }
    public static let length = 0x06

    /// `PCI_AF_CAP_TP`: Transactions Pending bit.
    public let transactionsPending: Bool
    /// `PCI_AF_CAP_FLR`
    public let flr: Bool

    /// The kernel uses AF FLR only when both TP and FLR are capable (`pci_af_flr`).
    public var flrUsable: Bool { transactionsPending && flr }

    init(_ r: RegisterBlock) {
        let cap = r.u8(Offset.capabilities)
        transactionsPending = cap.bit(0)
        flr = cap.bit(1)
    }
}
