/// Power Management (`PCI_CAP_ID_PM`): which D-states exist and whether D3hot→D0 keeps state.
public struct PowerManagement: Hashable, Sendable {
    public enum Offset {
        /// `PCI_PM_PMC`
        public static let capabilities = 0x02
        /// `PCI_PM_CTRL`
        public static let controlStatus = 0x04
    }
    public static let length = 0x08

    public let version: UInt8
    public let d1Supported: Bool
    public let d2Supported: Bool
    /// PME# support bits for D0, D1, D2, D3hot, D3cold (bits 11–15).
    public let pmeSupport: UInt8
    /// Current state, 0–3 (D0–D3hot).
    public let powerState: UInt8
    /// `PCI_PM_CTRL_NO_SOFT_RESET`: D3hot→D0 does not reset the function. Set: a PM reset does nothing.
    public let noSoftReset: Bool

    init(_ r: RegisterBlock) {
        let pmc = r.u16(Offset.capabilities)
        let csr = r.u16(Offset.controlStatus)
        version = UInt8(pmc.bits(0, 3))
        d1Supported = pmc.bit(9)
        d2Supported = pmc.bit(10)
        pmeSupport = UInt8(pmc.bits(11, 5))
        powerState = UInt8(csr.bits(0, 2))
        noSoftReset = csr.bit(3)
    }
}
