/// Downstream Port Containment (`PCI_EXT_CAP_ID_DPC`).
public struct DPC: Hashable, Sendable {
    public static let length = 0x08
    public let capability: UInt16
    public let control: UInt16
    /// DPC trigger enable (control bits 0–1 non-zero).
    public var triggerEnabled: Bool { control.bits(0, 2) != 0 }

    init(_ r: RegisterBlock) {
        capability = r.u16(0x04)
        control = r.u16(0x06)
    }
}
