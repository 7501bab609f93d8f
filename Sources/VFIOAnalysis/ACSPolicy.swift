import PCIConfigSpace
import PCIHost

/// The kernel's view of isolation for one function: `pci_acs_enabled` and its helpers
/// (drivers/pci/pci.c, drivers/pci/quirks.c), evaluated on decoded config space.
public struct ACSPolicy: Sendable {
    /// What isolation needs: `REQ_ACS_FLAGS` = SV | RR | CR | UF (drivers/iommu/iommu.c).
    public static let required: ACSFlags = .isolationRequired

    /// What the quirks read besides the function (IVRS table, kernel rules, `pcie_acs_override`).
    public let context: ACSContext

    /// A policy that knows nothing of the host beyond each function (IVRS table and kernel release unknown).
    public init() { context = ACSContext() }

    /// The policy of `model`'s host: its IVRS table, kernel release and `pcie_acs_override`.
    public init(_ model: HostModel) { context = ACSContext(model) }

    public init(context: ACSContext) { self.context = context }

    /// The kernel's `dev->multifunction`: function 0 takes its header bit, any function above 0 is
    /// multifunction (`pci_scan_slot`), and VFs, created by `pci_iov_add_virtfn`, never are. A function 0 whose bit
    /// the input does not show (`multifunctionUnknown`) answers `false` here; `evaluate` treats it as unknown.
    public func isMultifunction(_ f: PCIFunction) -> Bool {
        if f.isVirtualFunction { return false }
        return f.address.function > 0 || f.multifunctionBit
    }

    public enum Verdict: Equatable, Sendable {
        case isolated(why: String)
        /// Not isolated; `missing` names the required flags the function does not enable (empty: no ACS at all
        /// where the type needs it, or a type that can never provide it).
        case notIsolated(why: String, missing: ACSFlags)
        /// A fact the kernel's test reads (the port type, the ACS capability) is not in the input.
        case unknown(Unknown)

        public var isIsolated: Bool { if case .isolated = self { true } else { false } }
        public var unknownFact: Unknown? { if case let .unknown(u) = self { u } else { nil } }
    }

    /// `pci_acs_enabled(dev, REQ_ACS_FLAGS)`: the device-specific quirks first (`pci_dev_specific_acs_enabled`,
    /// walking `pci_dev_acs_enabled[]` in order: AMD southbridge, multifunction endpoints, Intel RCiEPs,
    /// Qualcomm, Intel PCH and SPT root ports, Cavium, X-Gene/Ampere, Broadcom, Loongson, Annapurna, NXP,
    /// Zhaoxin, Wangxun, then `pcie_acs_override` where the kernel carries it), then the capability.
    public func evaluate(_ f: PCIFunction) -> Verdict {
        if let quirk = VendorACS.amdSouthbridge(f, multifunction: isMultifunction(f), context: context) {
            return quirk
        }
        if let name = MultifunctionEndpointACS.claims(f) {
            return .isolated(why: "\(name) \(hex(f.vendorID, 4)):\(hex(f.deviceID, 4)): its functions do not talk peer-to-peer (kernel quirk pci_quirk_mf_endpoint_acs)")
        }
        let portType: PCIExpress.PortType?
        switch f.portType {
        case let .known(type, _): portType = type
        case let .unknown(u): return .unknown(u)
        }
        // pci_dev_specific_acs_enabled: Intel root-complex integrated endpoints are isolated by
        // quirk (pci_quirk_rciep_acs; VT-d r3.1 §3.16): they may do peer-to-peer only on translated addresses.
        if f.vendorID == 0x8086, portType == .rootComplexIntegratedEndpoint {
            return .isolated(why: "Intel RCiEP (kernel quirk pci_quirk_rciep_acs)")
        }
        if let quirk = VendorACS.qualcomm(f) { return quirk }
        // pci_quirk_intel_pch_acs, then pci_quirk_intel_spt_pch_acs (the order of pci_dev_acs_enabled[]).
        if let quirk = IntelPCHACS.verdict(f, required: Self.required, rules: context.rules, controlsSetByKernel: context.controlsSetByKernel) {
            return quirk
        }
        if let quirk = VendorACS.verdict(f, portType: portType, context: context) {
            return quirk
        }
        // pcie_acs_overrides (out of tree): only for PCIe functions without an ACS capability.
        if let override = context.override {
            switch f.acsCapability {
            case .known(nil, _):
                if let why = override.covers(f, portType: portType) { return .isolated(why: why + " (the kernel was told to assume isolation)") }
            case let .unknown(u) where override.wouldCover(f, portType: portType) != nil:
                return .unknown(Unknown("whether pcie_acs_override=\(override.text) covers \(f.address) depends on whether it has an ACS capability: \(u.reason)", remedy: u.remedy))
            default:
                break
            }
        }
        guard let type = portType else {
            return .notIsolated(why: "conventional PCI or PCI-X function: ACS does not exist there", missing: [])
        }
        switch type {
        case .pciToPCIeBridge, .pcieToPCIBridge, .rootComplexEventCollector:
            return .notIsolated(why: "\(type.name): the kernel never treats it as ACS-isolated", missing: [])
        case .downstreamPort, .rootPort:
            return flagsEnabled(f, subject: type.name)
        case .endpoint, .upstreamPort, .legacyEndpoint, .rootComplexIntegratedEndpoint:
            // A function 0 whose multifunction bit is not in the input (lspci's text): isolated only if its ACS would
            // isolate it either way, else unknown.
            if let u = f.multifunctionUnknown, f.address.function == 0, !f.isVirtualFunction {
                let verdict = flagsEnabled(f, subject: type.name)
                return verdict.isIsolated ? verdict : .unknown(Unknown("whether \(f.address) (\(type.name)) needs ACS to isolate depends on its multifunction bit: \(u.reason)", remedy: u.remedy))
            }
            guard isMultifunction(f) else { return .isolated(why: "single-function \(type.name): ACS not applicable") }
            return flagsEnabled(f, subject: "multifunction \(type.name)")
        default:
            return .isolated(why: "PCIe type \(type.rawValue) is not one the kernel checks")
        }
    }

    /// `pci_acs_flags_enabled`: flags the capability does not implement count as enabled (except EC).
    /// An ACS capability beyond the readable bytes is unknown, never absent.
    func flagsEnabled(_ f: PCIFunction, subject: String) -> Verdict {
        switch f.acsCapability {
        case let .unknown(u):
            return .unknown(u)
        case .known(nil, let evidence):
            return .notIsolated(why: "\(subject) without an ACS capability (\(evidence))", missing: Self.required)
        case let .known(acs?, _):
            let missing = acs.missing(Self.required)
            if missing.isEmpty { return .isolated(why: "\(subject) with ACS \(Self.required.names.joined(separator: " ")) in effect") }
            // The controls the kernel sets: only a kernel with an IOMMU on enables them (pci_enable_acs enables every
            // implemented SV RR CR UF, then applies pci=config_acs/disable_acs_redir).
            switch context.controlsSetByKernel {
            case .known(true, _):
                return .notIsolated(why: "\(subject) with ACS not enabling \(missing.names.joined(separator: " "))", missing: missing)
            case .known(false, let evidence):
                if case .known(false, _) = context.acsParameters {
                    return .isolated(why: "\(subject) implements ACS \(missing.names.joined(separator: " ")), left off while the IOMMU is off; with it on, pci_enable_acs enables them (\(evidence))")
                }
                return .unknown(Unknown("\(subject) \(f.address) implements ACS \(missing.names.joined(separator: " ")), off while the IOMMU is off; whether the kernel enables them with it on depends on pci=config_acs/disable_acs_redir: \(context.acsParameters.unknown?.reason ?? "they are on the command line")",
                                        remedy: "turn the IOMMU on and read the host's own groups"))
            case let .unknown(u):
                return .unknown(Unknown("\(subject) \(f.address) shows ACS \(missing.names.joined(separator: " ")) off; a kernel with an IOMMU on enables them, and \(u.reason)", remedy: u.remedy))
            }
        }
    }
}

extension ACSPolicy {
    /// Whether a port or bridge isolates what is below it (`pci_acs_enabled` on it), for showing in a topology;
    /// `nil` for an endpoint, where isolation is a matter of its slot, not of what is below it.
    /// A bridge whose config space is unreadable is evaluated too (its answer is then unknown, never "endpoint").
    public func portIsolation(_ f: PCIFunction) -> Verdict? {
        if let type = f.config?.pciExpress?.portType {
            guard type.isDownstreamPort || FunctionRules.endpoints([f]).isEmpty else { return nil }
            return evaluate(f)
        }
        return FunctionRules.isBridge(f) ? evaluate(f) : nil
    }
}
