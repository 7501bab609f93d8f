/// A capability ID in the list at 0x34. Open: an unknown ID keeps its raw value.
public struct CapabilityID: RawRepresentable, Hashable, Sendable, Comparable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    /// `PCI_CAP_ID_PM`
    public static let powerManagement = Self(rawValue: 0x01)
    /// `PCI_CAP_ID_AGP`
    public static let agp = Self(rawValue: 0x02)
    /// `PCI_CAP_ID_VPD`
    public static let vitalProductData = Self(rawValue: 0x03)
    /// `PCI_CAP_ID_SLOTID`
    public static let slotID = Self(rawValue: 0x04)
    /// `PCI_CAP_ID_MSI`
    public static let msi = Self(rawValue: 0x05)
    /// `PCI_CAP_ID_CHSWP`
    public static let compactPCIHotSwap = Self(rawValue: 0x06)
    /// `PCI_CAP_ID_PCIX`
    public static let pciX = Self(rawValue: 0x07)
    /// `PCI_CAP_ID_HT`
    public static let hyperTransport = Self(rawValue: 0x08)
    /// `PCI_CAP_ID_VNDR`
    public static let vendorSpecific = Self(rawValue: 0x09)
    /// `PCI_CAP_ID_DBG`
    public static let debugPort = Self(rawValue: 0x0a)
    /// `PCI_CAP_ID_CCRC`
    public static let compactPCICentralResource = Self(rawValue: 0x0b)
    /// `PCI_CAP_ID_SHPC`
    public static let hotPlug = Self(rawValue: 0x0c)
    /// `PCI_CAP_ID_SSVID`: a bridge's subsystem IDs.
    public static let bridgeSubsystemID = Self(rawValue: 0x0d)
    /// `PCI_CAP_ID_AGP3`
    public static let agp8x = Self(rawValue: 0x0e)
    /// `PCI_CAP_ID_SECDEV`
    public static let secureDevice = Self(rawValue: 0x0f)
    /// `PCI_CAP_ID_EXP`
    public static let pciExpress = Self(rawValue: 0x10)
    /// `PCI_CAP_ID_MSIX`
    public static let msiX = Self(rawValue: 0x11)
    /// `PCI_CAP_ID_SATA`
    public static let sata = Self(rawValue: 0x12)
    /// `PCI_CAP_ID_AF`
    public static let advancedFeatures = Self(rawValue: 0x13)
    /// `PCI_CAP_ID_EA`
    public static let enhancedAllocation = Self(rawValue: 0x14)

    public var name: String {
        switch self {
        case .powerManagement: "Power Management"
        case .agp: "AGP"
        case .vitalProductData: "Vital Product Data"
        case .slotID: "Slot ID"
        case .msi: "MSI"
        case .compactPCIHotSwap: "CompactPCI hot-swap"
        case .pciX: "PCI-X"
        case .hyperTransport: "HyperTransport"
        case .vendorSpecific: "Vendor Specific"
        case .debugPort: "Debug port"
        case .compactPCICentralResource: "CompactPCI central resource control"
        case .hotPlug: "PCI Standard Hot-Plug Controller"
        case .bridgeSubsystemID: "Bridge subsystem ID"
        case .agp8x: "AGP 8x"
        case .secureDevice: "Secure device"
        case .pciExpress: "PCI Express"
        case .msiX: "MSI-X"
        case .sata: "SATA HBA"
        case .advancedFeatures: "PCI Advanced Features"
        case .enhancedAllocation: "Enhanced Allocation"
        default: "Capability ID 0x\(hex(rawValue, 2))"
        }
    }
}

/// An extended capability ID in the chain at 0x100. Open, like `CapabilityID`.
public struct ExtendedCapabilityID: RawRepresentable, Hashable, Sendable, Comparable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    /// `PCI_EXT_CAP_ID_NULL`
    public static let null = Self(rawValue: 0x0000)
    /// `PCI_EXT_CAP_ID_ERR`
    public static let advancedErrorReporting = Self(rawValue: 0x0001)
    /// `PCI_EXT_CAP_ID_VC`
    public static let virtualChannel = Self(rawValue: 0x0002)
    /// `PCI_EXT_CAP_ID_DSN`
    public static let deviceSerialNumber = Self(rawValue: 0x0003)
    /// `PCI_EXT_CAP_ID_PWR`
    public static let powerBudgeting = Self(rawValue: 0x0004)
    /// `PCI_EXT_CAP_ID_RCLD`
    public static let rootComplexLinkDeclaration = Self(rawValue: 0x0005)
    /// `PCI_EXT_CAP_ID_RCILC`
    public static let rootComplexInternalLinkControl = Self(rawValue: 0x0006)
    /// `PCI_EXT_CAP_ID_RCEC`
    public static let rootComplexEventCollectorEndpointAssociation = Self(rawValue: 0x0007)
    /// `PCI_EXT_CAP_ID_MFVC`
    public static let multiFunctionVirtualChannel = Self(rawValue: 0x0008)
    /// `PCI_EXT_CAP_ID_VC9`
    public static let virtualChannel9 = Self(rawValue: 0x0009)
    /// `PCI_EXT_CAP_ID_RCRB`
    public static let rootComplexRegisterBlock = Self(rawValue: 0x000a)
    /// `PCI_EXT_CAP_ID_VNDR`
    public static let vendorSpecific = Self(rawValue: 0x000b)
    /// `PCI_EXT_CAP_ID_CAC`
    public static let configAccessCorrelation = Self(rawValue: 0x000c)
    /// `PCI_EXT_CAP_ID_ACS`
    public static let accessControlServices = Self(rawValue: 0x000d)
    /// `PCI_EXT_CAP_ID_ARI`
    public static let alternativeRoutingID = Self(rawValue: 0x000e)
    /// `PCI_EXT_CAP_ID_ATS`
    public static let addressTranslationServices = Self(rawValue: 0x000f)
    /// `PCI_EXT_CAP_ID_SRIOV`
    public static let singleRootIOV = Self(rawValue: 0x0010)
    /// `PCI_EXT_CAP_ID_MRIOV`
    public static let multiRootIOV = Self(rawValue: 0x0011)
    /// `PCI_EXT_CAP_ID_MCAST`
    public static let multicast = Self(rawValue: 0x0012)
    /// `PCI_EXT_CAP_ID_PRI`
    public static let pageRequest = Self(rawValue: 0x0013)
    /// `PCI_EXT_CAP_ID_REBAR`
    public static let resizableBAR = Self(rawValue: 0x0015)
    /// `PCI_EXT_CAP_ID_DPA`
    public static let dynamicPowerAllocation = Self(rawValue: 0x0016)
    /// `PCI_EXT_CAP_ID_TPH`
    public static let tphRequester = Self(rawValue: 0x0017)
    /// `PCI_EXT_CAP_ID_LTR`
    public static let latencyToleranceReporting = Self(rawValue: 0x0018)
    /// `PCI_EXT_CAP_ID_SECPCI`
    public static let secondaryPCIExpress = Self(rawValue: 0x0019)
    /// `PCI_EXT_CAP_ID_PMUX`
    public static let protocolMultiplexing = Self(rawValue: 0x001a)
    /// `PCI_EXT_CAP_ID_PASID`
    public static let processAddressSpaceID = Self(rawValue: 0x001b)
    /// `PCI_EXT_CAP_ID_LNR`
    public static let lnRequester = Self(rawValue: 0x001c)
    /// `PCI_EXT_CAP_ID_DPC`
    public static let downstreamPortContainment = Self(rawValue: 0x001d)
    /// `PCI_EXT_CAP_ID_L1SS`
    public static let l1PMSubstates = Self(rawValue: 0x001e)
    /// `PCI_EXT_CAP_ID_PTM`
    public static let precisionTimeMeasurement = Self(rawValue: 0x001f)
    /// `PCI_EXT_CAP_ID_MPCIE`
    public static let mPCIe = Self(rawValue: 0x0020)
    /// `PCI_EXT_CAP_ID_FRS`
    public static let frsQueueing = Self(rawValue: 0x0021)
    /// `PCI_EXT_CAP_ID_RTR`
    public static let readinessTimeReporting = Self(rawValue: 0x0022)
    /// `PCI_EXT_CAP_ID_DVSEC`
    public static let designatedVendorSpecific = Self(rawValue: 0x0023)
    /// `PCI_EXT_CAP_ID_VF_REBAR`
    public static let vfResizableBAR = Self(rawValue: 0x0024)
    /// `PCI_EXT_CAP_ID_DLF`
    public static let dataLinkFeature = Self(rawValue: 0x0025)
    /// `PCI_EXT_CAP_ID_PL_16GT`
    public static let physicalLayer16 = Self(rawValue: 0x0026)
    /// `PCI_EXT_CAP_ID_LMR`
    public static let laneMargining = Self(rawValue: 0x0027)
    /// `PCI_EXT_CAP_ID_HIER_ID`
    public static let hierarchyID = Self(rawValue: 0x0028)
    /// `PCI_EXT_CAP_ID_NPEM`
    public static let nativePCIeEnclosureManagement = Self(rawValue: 0x0029)
    /// `PCI_EXT_CAP_ID_PL_32GT`
    public static let physicalLayer32 = Self(rawValue: 0x002a)
    /// `PCI_EXT_CAP_ID_DOE`
    public static let dataObjectExchange = Self(rawValue: 0x002e)

    public var name: String {
        switch self {
        case .null: "Null"
        case .advancedErrorReporting: "Advanced Error Reporting"
        case .virtualChannel, .virtualChannel9: "Virtual Channel"
        case .deviceSerialNumber: "Device Serial Number"
        case .powerBudgeting: "Power Budgeting"
        case .rootComplexLinkDeclaration: "Root Complex Link"
        case .rootComplexInternalLinkControl: "Root Complex Internal Link Control"
        case .rootComplexEventCollectorEndpointAssociation: "Root Complex Event Collector Endpoint Association"
        case .multiFunctionVirtualChannel: "Multi-Function Virtual Channel"
        case .rootComplexRegisterBlock: "Root Complex Register Block"
        case .vendorSpecific: "Vendor Specific Information"
        case .configAccessCorrelation: "Configuration Access Correlation"
        case .accessControlServices: "Access Control Services"
        case .alternativeRoutingID: "Alternative Routing-ID Interpretation"
        case .addressTranslationServices: "Address Translation Service"
        case .singleRootIOV: "Single Root I/O Virtualization"
        case .multiRootIOV: "Multi-Root I/O Virtualization"
        case .multicast: "Multicast"
        case .pageRequest: "Page Request Interface"
        case .resizableBAR: "Physical Resizable BAR"
        case .dynamicPowerAllocation: "Dynamic Power Allocation"
        case .tphRequester: "Transaction Processing Hints"
        case .latencyToleranceReporting: "Latency Tolerance Reporting"
        case .secondaryPCIExpress: "Secondary PCI Express"
        case .protocolMultiplexing: "Protocol Multiplexing"
        case .processAddressSpaceID: "Process Address Space ID"
        case .lnRequester: "LN Requester"
        case .downstreamPortContainment: "Downstream Port Containment"
        case .l1PMSubstates: "L1 PM Substates"
        case .precisionTimeMeasurement: "Precision Time Measurement"
        case .mPCIe: "PCI Express over M_PHY"
        case .frsQueueing: "FRS Queueing"
        case .readinessTimeReporting: "Readiness Time Reporting"
        case .designatedVendorSpecific: "Designated Vendor-Specific"
        case .vfResizableBAR: "VF Resizable BAR"
        case .dataLinkFeature: "Data Link Feature"
        case .physicalLayer16: "Physical Layer 16.0 GT/s"
        case .laneMargining: "Lane Margining at the Receiver"
        case .hierarchyID: "Hierarchy ID"
        case .nativePCIeEnclosureManagement: "Native PCIe Enclosure Management"
        case .physicalLayer32: "Physical Layer 32.0 GT/s"
        case .dataObjectExchange: "Data Object Exchange"
        default: "Extended Capability ID 0x\(hex(rawValue, 4))"
        }
    }
}

/// Lowercase hex, zero-padded to `width` digits.
public func hex(_ value: some BinaryInteger, _ width: Int) -> String {
    // Non-negative values up to 64 bits (every register and ID): digits written straight into the string.
    guard let v = UInt64(exactly: value) else {
        let digits = String(value, radix: 16)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
    var count = 1
    while count < 16 && v >> (4 * UInt64(count)) != 0 { count += 1 }
    let length = max(count, width)
    return String(unsafeUninitializedCapacity: length) { buffer in
        let digits: StaticString = "0123456789abcdef"
        for i in 0..<length {
            buffer[length - 1 - i] = i < 16 ? digits.utf8Start[Int(truncatingIfNeeded: v >> (4 * UInt64(i)) & 0xf)] : UInt8(ascii: "0")
        }
        return length
    }
}

/// Bit helpers for register structs.
extension BinaryInteger {
    @inlinable func bit(_ n: Int) -> Bool { (self >> n) & 1 == 1 }
    @inlinable func bits(_ at: Int, _ width: Int) -> Self { (self >> at) & ((1 << width) - 1) }
}
