/// A decoded standard capability.
public enum CapabilityBody: Hashable, Sendable {
    case powerManagement(PowerManagement)
    case msi(MSI)
    case msiX(MSIX)
    case pciExpress(PCIExpress)
    case advancedFeatures(AdvancedFeatures)
    case bridgeSubsystem(BridgeSubsystem)
    case vendorSpecific(VendorSpecific)
    case enhancedAllocation(EnhancedAllocation)
    case pciX(PCIX)
    /// An ID without a decoder here: kept with its offset, never mapped onto something else.
    case other
    /// The capability's registers are not all readable.
    case truncated

    /// Decodes the capability `id` at `offset`, reading only its own registers.
    static func decode(_ id: CapabilityID, at offset: Int, from source: some ConfigSource) -> CapabilityBody {
        func block(_ length: Int, minimum: Int? = nil) -> RegisterBlock? {
            RegisterBlock.read(source, at: offset, length: length, minimum: minimum ?? length)
        }
        switch id {
        case .powerManagement:
            return block(PowerManagement.length).map { .powerManagement(PowerManagement($0)) } ?? .truncated
        case .msi:
            return block(MSI.length).map { .msi(MSI($0)) } ?? .truncated
        case .msiX:
            return block(MSIX.length).map { .msiX(MSIX($0)) } ?? .truncated
        case .pciExpress:
            return PCIExpress.registers(in: source, at: offset).map { .pciExpress(PCIExpress($0)) } ?? .truncated
        case .advancedFeatures:
            return block(AdvancedFeatures.length).map { .advancedFeatures(AdvancedFeatures($0)) } ?? .truncated
        case .bridgeSubsystemID:
            return block(BridgeSubsystem.length).map { .bridgeSubsystem(BridgeSubsystem($0)) } ?? .truncated
        case .vendorSpecific:
            return block(VendorSpecific.length).map { .vendorSpecific(VendorSpecific($0)) } ?? .truncated
        case .enhancedAllocation:
            return block(EnhancedAllocation.length).map { .enhancedAllocation(EnhancedAllocation($0)) } ?? .truncated
        case .pciX:
            return block(PCIX.length).map { .pciX(PCIX($0)) } ?? .truncated
        default:
            return .other
        }
    }
}

/// A decoded extended capability.
public enum ExtendedCapabilityBody: Hashable, Sendable {
    case advancedErrorReporting(AER)
    case accessControlServices(ACS)
    case alternativeRoutingID(ARI)
    case singleRootIOV(SRIOV)
    case addressTranslation(ATS)
    case pageRequest(PRI)
    case processAddressSpaceID(PASID)
    case downstreamPortContainment(DPC)
    case serialNumber(SerialNumber)
    case latencyTolerance(LTR)
    case l1PMSubstates(L1PMSubstates)
    case resizableBAR(ResizableBAR)
    case vfResizableBAR(ResizableBAR)
    case secondaryPCIe(SecondaryPCIe)
    case precisionTimeMeasurement(PTM)
    case virtualChannel(VirtualChannel)
    case designatedVendorSpecific(DVSEC)
    case dataLinkFeature(DataLinkFeature)
    case physicalLayer16(PhysicalLayer)
    case physicalLayer32(PhysicalLayer)
    case other
    case truncated

    static func decode(_ id: ExtendedCapabilityID, at offset: Int, from source: some ConfigSource) -> ExtendedCapabilityBody {
        func block(_ length: Int, minimum: Int? = nil) -> RegisterBlock? {
            RegisterBlock.read(source, at: offset, length: length, minimum: minimum ?? length)
        }
        switch id {
        case .advancedErrorReporting:
            return block(AER.length + 4, minimum: AER.length).map { .advancedErrorReporting(AER($0)) } ?? .truncated
        case .accessControlServices:
            return block(ACS.length + 4, minimum: ACS.length).map { .accessControlServices(ACS($0)) } ?? .truncated
        case .alternativeRoutingID:
            return block(ARI.length).map { .alternativeRoutingID(ARI($0)) } ?? .truncated
        case .singleRootIOV:
            return block(SRIOV.length, minimum: SRIOV.minimumLength).map { .singleRootIOV(SRIOV($0)) } ?? .truncated
        case .addressTranslationServices:
            return block(ATS.length).map { .addressTranslation(ATS($0)) } ?? .truncated
        case .pageRequest:
            return block(PRI.length).map { .pageRequest(PRI($0)) } ?? .truncated
        case .processAddressSpaceID:
            return block(PASID.length).map { .processAddressSpaceID(PASID($0)) } ?? .truncated
        case .downstreamPortContainment:
            return block(DPC.length).map { .downstreamPortContainment(DPC($0)) } ?? .truncated
        case .deviceSerialNumber:
            return block(SerialNumber.length).map { .serialNumber(SerialNumber($0)) } ?? .truncated
        case .latencyToleranceReporting:
            return block(LTR.length).map { .latencyTolerance(LTR($0)) } ?? .truncated
        case .l1PMSubstates:
            return block(L1PMSubstates.length).map { .l1PMSubstates(L1PMSubstates($0)) } ?? .truncated
        case .resizableBAR:
            return block(ResizableBAR.maximumLength, minimum: 0x0c).map { .resizableBAR(ResizableBAR($0)) } ?? .truncated
        case .vfResizableBAR:
            return block(ResizableBAR.maximumLength, minimum: 0x0c).map { .vfResizableBAR(ResizableBAR($0)) } ?? .truncated
        case .secondaryPCIExpress:
            return block(SecondaryPCIe.length).map { .secondaryPCIe(SecondaryPCIe($0)) } ?? .truncated
        case .precisionTimeMeasurement:
            return block(PTM.length).map { .precisionTimeMeasurement(PTM($0)) } ?? .truncated
        case .virtualChannel, .virtualChannel9, .multiFunctionVirtualChannel:
            return block(VirtualChannel.length).map { .virtualChannel(VirtualChannel($0)) } ?? .truncated
        case .designatedVendorSpecific:
            return block(DVSEC.length).map { .designatedVendorSpecific(DVSEC($0)) } ?? .truncated
        case .dataLinkFeature:
            return block(DataLinkFeature.length).map { .dataLinkFeature(DataLinkFeature($0)) } ?? .truncated
        case .physicalLayer16:
            return block(PhysicalLayer.length).map { .physicalLayer16(PhysicalLayer($0)) } ?? .truncated
        case .physicalLayer32:
            return block(PhysicalLayer.length).map { .physicalLayer32(PhysicalLayer($0)) } ?? .truncated
        default:
            return .other
        }
    }
}
