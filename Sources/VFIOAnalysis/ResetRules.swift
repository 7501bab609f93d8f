import PCIConfigSpace
import PCIHost

/// How a function can be reset, as far as the input shows.
public struct ResetCapability: Sendable {
    /// The methods, spelled as sysfs `reset_method` spells them, in `pci_reset_fn_methods` order: the
    /// kernel's own list where the input has it (Linux ≥ 5.15), else the ones config space shows.
    public let methods: Fact<[String]>
    /// The bridge whose secondary bus reset reaches the function (VFIO's hot reset), when it has one.
    public let hotResetThrough: PCIAddress?
    /// Everything else a secondary bus reset at `hotResetThrough` resets: the whole subtree below it.
    public let busResetCollateral: Fact<[PCIAddress]>
    /// When `methods` was derived from config space: what config space cannot show (device-specific
    /// and ACPI `_RST` methods), so "no method" is not certain.
    public let unknownBeyondConfig: Unknown?
}

/// The kernel's reset methods (`pci_reset_fn_methods[]`, drivers/pci/pci.c, 6.18): device_specific, acpi,
/// flr, af_flr, pm, bus, cxl_bus, tried in that order.
public enum ResetRules {
    /// Methods that reset the function alone.
    public static let functionScoped: Set<String> = ["device_specific", "acpi", "flr", "af_flr", "pm"]

    /// The reset capability of `f`:
    /// - `flr`: PCIe DevCap FLR (`pcie_reset_flr`);
    /// - `af_flr`: Advanced Features with both TP and FLR (`pci_af_flr`);
    /// - `pm`: a PM capability whose PMCSR No_Soft_Reset is clear (`pci_pm_reset`);
    /// - `bus`: a parent bridge, the function not itself a bridge, and nothing else on its bus
    ///   (`pci_parent_bus_reset`); VFIO's hot reset also covers a shared bus when one user owns it all.
    public static func capability(_ f: PCIFunction, _ model: HostModel) -> ResetCapability {
        let parent: PCIAddress?
        if case let .known(.below(p), _) = f.position { parent = p } else { parent = nil }
        let collateral: Fact<[PCIAddress]> = parent.map { busResetCollateral(of: f, below: $0, model) }
            ?? f.position.unknown.map { .unknown($0) }
            ?? .known([], evidence: "on a root bus")
        if let u = f.resetMethodsUnknown {
            // The kernel's list is there but damaged: config space cannot stand in for it (an admin may have
            // disabled methods that config space advertises).
            return ResetCapability(methods: .unknown(u), hotResetThrough: parent, busResetCollateral: collateral, unknownBeyondConfig: nil)
        }
        if let kernel = f.resetMethods {
            return ResetCapability(methods: .known(kernel, evidence: f.resetMethodsEvidence ?? "reset_method = \(kernel.isEmpty ? "(empty)" : kernel.joined(separator: " "))"),
                                   hotResetThrough: parent, busResetCollateral: collateral, unknownBeyondConfig: nil)
        }
        guard let config = f.config, f.capabilitiesUnknown == nil else {
            let u = f.capabilitiesUnknown ?? Unknown("config space of \(f.address) was not decoded", remedy: f.provenance.configRemedy)
            return ResetCapability(methods: .unknown(u), hotResetThrough: parent, busResetCollateral: collateral, unknownBeyondConfig: nil)
        }
        var methods: [String] = []
        var evidence: [String] = []
        let flrCapable = config.pciExpress?.flrCapable == true
        let noFLR = ResetQuirks.noFLRQuirk(f)
        if let special = ResetQuirks.deviceSpecific(f, flr: flrCapable && noFLR == nil) {
            methods.append("device_specific")
            evidence.append("device-specific reset \(special) (pci_dev_reset_methods)")
        }
        if let noFLR, flrCapable || config.advancedFeatures?.flrUsable == true {
            evidence.append("FLR advertised but barred: \(noFLR) (quirk_no_flr)")
        } else {
            if flrCapable {
                methods.append("flr")
                evidence.append("PCIe DevCap FLR+")
            }
            if config.advancedFeatures?.flrUsable == true {
                methods.append("af_flr")
                evidence.append("Advanced Features TP+ FLR+")
            }
        }
        var pmUnknown: Unknown?
        if let pm = config.powerManagement {
            if pm.noSoftReset {
                evidence.append("PM NoSoftRst+ (D3hot→D0 keeps state: no PM reset)")
            } else {
                switch ResetQuirks.noPMResetQuirk(f) {
                case .known(nil, _):
                    methods.append("pm")
                    evidence.append("PM NoSoftRst- (D3hot→D0 resets)")
                case let .known(name?, _):
                    evidence.append("PM NoSoftRst- but the PM reset is barred: \(name) (quirk_no_pm_reset)")
                case let .unknown(u):
                    pmUnknown = Unknown("whether quirk_no_pm_reset bars the PM reset of \(f.address) depends on whether it is on a root bus: \(u.reason)", remedy: u.remedy)
                }
            }
        }
        // Functions the input names but could not read are on their bus all the same.
        let siblings = model.addresses(onBusOf: f.address, except: f.address)
            + model.skippedFunctions.filter { $0.domain == f.address.domain && $0.bus == f.address.bus && $0 != f.address }
        // quirk_no_bus_reset on the function, its parent, or anything else below the parent bars the bus reset.
        let barred: String? = {
            guard case let .known(.below(p), _) = f.position else { return nil }
            func quirk(_ g: PCIFunction) -> String? { ResetQuirks.noBusResetQuirk(g).map { "\(g.address) (\($0))" } }
            return quirk(f) ?? model.firstBelow(p, quirk) ?? model.function(p).flatMap(quirk)
        }()
        if let barred { evidence.append("no bus reset: \(barred) is on quirk_no_bus_reset's list") }
        switch f.position {
        case .known(.below, _) where barred != nil:
            break
        case .known(.below(let p), _) where !FunctionRules.isBridge(f):
            if siblings.isEmpty {
                methods.append("bus")
                evidence.append("alone below \(p): a secondary bus reset")
            } else {
                evidence.append("shares its bus with \(siblings.map(\.description).joined(separator: ", ")): no per-function bus reset")
            }
        case .known(.rootBus, _):
            evidence.append("on a root bus: no bus reset")
        case let .unknown(u):
            if methods.isEmpty {
                return ResetCapability(methods: .unknown(u), hotResetThrough: nil, busResetCollateral: collateral, unknownBeyondConfig: nil)
            }
        default:
            break
        }
        if let pmUnknown, !methods.contains(where: functionScoped.contains) {
            return ResetCapability(methods: .unknown(pmUnknown), hotResetThrough: parent, busResetCollateral: collateral, unknownBeyondConfig: nil)
        }
        let beyond = Unknown("the kernel may also have an ACPI _RST method for \(f.address), which config space does not show",
                             remedy: "read `reset_method` on the host (Linux 5.15 and later)")
        return ResetCapability(methods: .known(methods, evidence: "from config space: " + evidence.joined(separator: "; ")),
                               hotResetThrough: barred == nil ? parent : nil, busResetCollateral: collateral, unknownBeyondConfig: beyond)
    }

    /// A secondary bus reset at `parent` resets its whole subtree (every function whose upstream path
    /// includes it), not only the functions on its secondary bus.
    static func busResetCollateral(of f: PCIFunction, below parent: PCIAddress, _ model: HostModel) -> Fact<[PCIAddress]> {
        let hit = model.addresses(below: parent).filter { $0 != f.address }
        if !model.skippedFunctions.isEmpty {
            return .unknown("\(model.skippedFunctions.count) function(s) of the input could not be read; some may sit below \(parent)",
                            remedy: "read the host's own sysfs")
        }
        // A whole-machine dump (its group lines run 0…N and it has 00:00.0) shows every function; another may not.
        let wholeMachine = model.environment.groupSource == .dumpLines && model.environment.groupMembershipIncomplete == nil
        if f.provenance == .dump && !wholeMachine {
            return .unknown("a dump may leave out functions below \(parent) (it holds \(hit.count) besides \(f.address))",
                            remedy: "capture the whole machine: `lspci -nnkvvvxxxx` as root, or read the host")
        }
        return .known(hit, evidence: "the subtree below \(parent)")
    }
}

/// Devices whose INTx cannot be masked at the device (`quirk_broken_intx_masking`, drivers/pci/quirks.c,
/// as of Linux 6.12): vfio-pci then needs the interrupt line exclusively. Data: vendor → device IDs.
public enum INTxQuirks {
    static let brokenMaskingTable: [UInt16: (name: String, devices: Set<UInt16>)] = [
        0x1425: ("Chelsio T4", [0x0030]),
        0x1814: ("Ralink RT2800", [0x0601]),
        0x1b7c: ("Ceton InfiniTV4", [0x0004]),
        0x1102: ("Creative Labs EMU20k2", [0x000b]),
        0x10ec: ("Realtek RTL8169", [0x8169]),
        0x8086: ("Intel XL710/X710/X722 (i40e)", [0x1572, 0x1574, 0x1580, 0x1581, 0x1583, 0x1584, 0x1585, 0x1586, 0x1587,
                                                   0x1588, 0x1589, 0x158a, 0x158b, 0x37d0, 0x37d1, 0x37d2]),
    ]

    /// `mellanox_check_broken_intx_masking`: Hermon, ConnectX, ConnectX-2, ConnectX-3 (Pro) always; ConnectX-4 and
    /// ConnectX-4 Lx only with old firmware, which the kernel reads from device memory (unknown here).
    static let mellanoxBroken: Set<UInt16> = [0x6340, 0x634a, 0x6354, 0x6732, 0x673c, 0x6368, 0x6750, 0x6372, 0x675a,
                                              0x6764, 0x6746, 0x676e, 0x1003, 0x1007]
    static let mellanoxByFirmware: Set<UInt16> = [0x1013, 0x1015]

    /// The quirk's name when `f` is on the list (`.known(nil)`: not on it; unknown where firmware decides).
    public static func brokenMasking(_ f: PCIFunction) -> Fact<String?> {
        if f.vendorID == 0x15b3 {
            if mellanoxBroken.contains(f.deviceID) { return .known("Mellanox Hermon/ConnectX-2/ConnectX-3", evidence: "mellanox_check_broken_intx_masking") }
            if mellanoxByFirmware.contains(f.deviceID) {
                return .unknown("Mellanox ConnectX-4/4 Lx \(f.address) cannot mask INTx with old firmware (mellanox_check_broken_intx_masking reads the version from device memory)",
                                remedy: "check the firmware version with mstflint or ethtool -i, or give the device an unshared interrupt line")
            }
        }
        guard let entry = brokenMaskingTable[f.vendorID], entry.devices.contains(f.deviceID) else { return .known(nil, evidence: "not on quirk_broken_intx_masking's list") }
        return .known(entry.name, evidence: "quirk_broken_intx_masking")
    }
}
