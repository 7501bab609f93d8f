/// Single Root I/O Virtualization (`PCI_EXT_CAP_ID_SRIOV`).
public struct SRIOV: Hashable, Sendable {
    public enum Offset {
        /// `PCI_SRIOV_CAP`
        public static let capabilities = 0x04
        /// `PCI_SRIOV_CTRL`
        public static let control = 0x08
        /// `PCI_SRIOV_STATUS`
        public static let status = 0x0a
        /// `PCI_SRIOV_INITIAL_VF`
        public static let initialVFs = 0x0c
        /// `PCI_SRIOV_TOTAL_VF`
        public static let totalVFs = 0x0e
        /// `PCI_SRIOV_NUM_VF`
        public static let numVFs = 0x10
        /// `PCI_SRIOV_FUNC_LINK`
        public static let functionDependencyLink = 0x12
        /// `PCI_SRIOV_VF_OFFSET`
        public static let firstVFOffset = 0x14
        /// `PCI_SRIOV_VF_STRIDE`
        public static let vfStride = 0x16
        /// `PCI_SRIOV_VF_DID`
        public static let vfDeviceID = 0x1a
        /// `PCI_SRIOV_SUP_PGSIZE`
        public static let supportedPageSizes = 0x1c
        /// `PCI_SRIOV_SYS_PGSIZE`
        public static let systemPageSize = 0x20
        /// `PCI_SRIOV_BAR`
        public static let vfBAR0 = 0x24
    }
    public static let length = 0x40
    public static let minimumLength = 0x24

    public let migrationCapable: Bool
    /// `PCI_SRIOV_CTRL_VFE`
    public let vfEnable: Bool
    public let vfMigrationEnable: Bool
    public let vfMemorySpaceEnable: Bool
    /// `PCI_SRIOV_CTRL_ARI`
    public let ariCapableHierarchy: Bool
    public let initialVFs: Int
    public let totalVFs: Int
    public let numVFs: Int
    public let functionDependencyLink: UInt8
    public let firstVFOffset: Int
    public let vfStride: Int
    public let vfDeviceID: UInt16
    public let supportedPageSizes: UInt32
    public let systemPageSize: UInt32
    /// Raw VF BAR registers 0–5 (sizes need the sysfs resource file or a sizing write, which we never do).
    public let vfBARs: [UInt32]

    init(_ r: RegisterBlock) {
        migrationCapable = r.u32(Offset.capabilities).bit(0)
        let ctrl = r.u16(Offset.control)
        vfEnable = ctrl.bit(0)
        vfMigrationEnable = ctrl.bit(1)
        vfMemorySpaceEnable = ctrl.bit(3)
        ariCapableHierarchy = ctrl.bit(4)
        initialVFs = Int(r.u16(Offset.initialVFs))
        totalVFs = Int(r.u16(Offset.totalVFs))
        numVFs = Int(r.u16(Offset.numVFs))
        functionDependencyLink = r.u8(Offset.functionDependencyLink)
        firstVFOffset = Int(r.u16(Offset.firstVFOffset))
        vfStride = Int(r.u16(Offset.vfStride))
        vfDeviceID = r.u16(Offset.vfDeviceID)
        supportedPageSizes = r.u32(Offset.supportedPageSizes)
        systemPageSize = r.u32(Offset.systemPageSize)
        vfBARs = (0..<6).compactMap { i in r.has(Offset.vfBAR0 + 4 * i, 4) ? r.u32(Offset.vfBAR0 + 4 * i) : nil }
    }
}
