import PCIConfigSpace
import PCIHost

/// One line of `check`, like a `virt-host-validate` line: a stable machine `id` and a title.
/// Every finding code belongs to exactly one line (`FindingCode.line`).
public struct CheckLine: Hashable, Sendable {
    /// Stable machine id (`iommu`, `reset`): part of the JSON contract.
    public let id: String
    public let title: String

    public static let iommu = CheckLine(id: "iommu", title: "IOMMU enabled")
    public static let interruptRemapping = CheckLine(id: "interrupt-remapping", title: "Interrupt remapping")
    public static let acsOverride = CheckLine(id: "acs-override", title: "Groups trustworthy (no ACS override)")
    public static let wholeGroup = CheckLine(id: "whole-group", title: "Whole IOMMU group assigned")
    public static let candidate = CheckLine(id: "candidate", title: "Passthrough candidate (an endpoint)")
    public static let drivers = CheckLine(id: "drivers", title: "Drivers (VFIO)")
    public static let backend = CheckLine(id: "backend", title: "VFIO backend (container or iommufd)")
    public static let vgpu = CheckLine(id: "vgpu", title: "vGPU type set")
    public static let hostUse = CheckLine(id: "host-use", title: "Not in use by the host")
    public static let reset = CheckLine(id: "reset", title: "Reset")
    public static let interrupts = CheckLine(id: "interrupts", title: "Interrupts")
    public static let function0 = CheckLine(id: "function0", title: "Function 0 present")
    public static let sriov = CheckLine(id: "sriov", title: "SR-IOV")
    public static let mmioWindow = CheckLine(id: "mmio-window", title: "64-bit MMIO window")
    public static let migration = CheckLine(id: "migration", title: "Live migration")
    public static let placement = CheckLine(id: "placement", title: "Guest placement (plan)")

    /// The lines in the order `check` prints them.
    public static let all: [CheckLine] = [
        .iommu, .interruptRemapping, .acsOverride, .wholeGroup, .candidate, .drivers, .backend, .vgpu, .hostUse, .reset,
        .interrupts, .function0, .sriov, .mmioWindow, .migration, .placement,
    ]
}

/// A finding's stable code, with the `check` line it belongs to. Open like `CapabilityID`: every code
/// the rules emit is declared here once, with its line, so none can be emitted without one.
public struct FindingCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public let line: CheckLine

    init(_ rawValue: String, _ line: CheckLine) {
        self.rawValue = rawValue
        self.line = line
    }

    /// A declared code by its spelling; `nil` for a spelling no rule emits.
    public init?(rawValue: String) {
        guard let code = Self.byName[rawValue] else { return nil }
        self = code
    }

    public var description: String { rawValue }

    /// Warnings that ask for nothing to be done: the device is usable as it is, with a limit the admin should
    /// know (no reset, INTx only, PF-shared state, a bus reset that reaches others, block devices that nothing
    /// mounts, a unit wider than the selection). They leave the check line WARN and the unit ready.
    public var isCaution: Bool {
        [Self.noReset, .busResetOnly, .intxOnly, .intxMaskingBroken, .vfSharesPFState, .detachedVF, .hostBlockDevice,
         .groupExpanded, .function0Missing, .groupPredictionMismatch, .notMigratable, .migrationUnverified, .migrationUnknown, .relatedElsewhere, .mmioBudgetLarge].contains(self)
            || (self == .vfioDenylist)
    }

    /// Info codes that only carry the evidence of a PASS (text output leaves them out; JSON keeps them).
    public var isPassEvidence: Bool {
        self == .iommuOn || self == .interruptRemappingOn || self == .resetAvailable || self == .msiAvailable
            || self == .vfioBound || self == .hostUseClear || self == .notSRIOVPF || self == .endpoint || self == .barsSized
            || self == .noACSOverride || self == .groupWhole || self == .backendAvailable || self == .vgpuTypeSet || self == .mmioBudget
    }

    // IOMMU
    public static let iommuOn = Self("iommu-on", .iommu)
    public static let iommuOff = Self("iommu-off", .iommu)
    public static let iommuUnknown = Self("iommu-unknown", .iommu)
    public static let notInGroup = Self("not-in-group", .iommu)
    public static let iommuPassthroughDefault = Self("iommu-passthrough-default", .iommu)
    // Interrupt remapping
    public static let interruptRemappingOn = Self("interrupt-remapping-on", .interruptRemapping)
    public static let noInterruptRemapping = Self("no-interrupt-remapping", .interruptRemapping)
    public static let interruptRemappingOff = Self("interrupt-remapping-off", .interruptRemapping)
    public static let interruptRemappingUnknown = Self("interrupt-remapping-unknown", .interruptRemapping)
    public static let unsafeInterruptsAllowed = Self("unsafe-interrupts-allowed", .interruptRemapping)
    public static let noiommuMode = Self("noiommu-mode", .interruptRemapping)
    // Groups trustworthy
    public static let acsOverride = Self("acs-override", .acsOverride)
    public static let acsDisabled = Self("acs-disabled", .acsOverride)
    public static let acsConfigured = Self("acs-configured", .acsOverride)
    public static let noACSOverride = Self("no-acs-override", .acsOverride)
    public static let commandLineUnknown = Self("command-line-unknown", .acsOverride)
    public static let groupPredictionMismatch = Self("group-prediction-mismatch", .acsOverride)
    public static let predictionUncertain = Self("prediction-uncertain", .acsOverride)
    // Whole group
    public static let groupExpanded = Self("group-expanded", .wholeGroup)
    public static let sharedGroup = Self("shared-group", .wholeGroup)
    public static let sharesWithBridge = Self("shares-with-bridge", .wholeGroup)
    public static let groupIncomplete = Self("group-incomplete", .wholeGroup)
    public static let groupUncertain = Self("group-uncertain", .wholeGroup)
    public static let groupUnknown = Self("group-unknown", .wholeGroup)
    public static let groupWhole = Self("group-whole", .wholeGroup)
    public static let relatedElsewhere = Self("related-elsewhere", .wholeGroup)
    // Candidate
    public static let bridgesOnly = Self("bridges-only", .candidate)
    public static let chipsetFunction = Self("chipset-function", .candidate)
    public static let identityUnknown = Self("identity-unknown", .candidate)
    public static let notResponding = Self("not-responding", .candidate)
    public static let endpoint = Self("endpoint", .candidate)
    public static let directMapping = Self("direct-mapping", .candidate)
    // Drivers
    public static let hostDriver = Self("host-driver", .drivers)
    public static let noDriver = Self("no-driver", .drivers)
    public static let driverUnknown = Self("driver-unknown", .drivers)
    public static let vfioPCINotLoaded = Self("vfio-pci-not-loaded", .drivers)
    public static let vfioDenylist = Self("vfio-denylist", .drivers)
    public static let vfioBound = Self("vfio-bound", .drivers)
    // VFIO backend
    public static let backendAvailable = Self("backend-available", .backend)
    public static let backendNotLoaded = Self("backend-not-loaded", .backend)
    public static let noBackend = Self("no-backend", .backend)
    public static let backendUnknown = Self("backend-unknown", .backend)
    // vGPU
    public static let vgpuTypeSet = Self("vgpu-type-set", .vgpu)
    public static let vgpuTypeUnset = Self("vgpu-type-unset", .vgpu)
    public static let vgpuTypeUnknown = Self("vgpu-type-unknown", .vgpu)
    // Migration
    public static let migratable = Self("migratable", .migration)
    public static let notMigratable = Self("not-migratable", .migration)
    public static let migrationUnknown = Self("migration-unknown", .migration)
    public static let migrationUnverified = Self("migration-unverified", .migration)
    // Host use
    public static let hostMounted = Self("host-mounted", .hostUse)
    public static let hostSwap = Self("host-swap", .hostUse)
    public static let hostNetUp = Self("host-net-up", .hostUse)
    public static let bootVGA = Self("boot-vga", .hostUse)
    public static let hostBlockDevice = Self("host-block-device", .hostUse)
    public static let hostUseUnknown = Self("host-use-unknown", .hostUse)
    public static let vfioInUse = Self("vfio-in-use", .hostUse)
    public static let hostUseClear = Self("host-use-clear", .hostUse)
    public static let firmwareFramebuffer = Self("firmware-framebuffer", .hostUse)
    public static let firmwareFramebufferUnknown = Self("firmware-framebuffer-unknown", .hostUse)
    // Reset
    public static let resetAvailable = Self("reset-available", .reset)
    public static let noReset = Self("no-reset", .reset)
    public static let busResetOnly = Self("bus-reset-only", .reset)
    public static let resetUnknown = Self("reset-unknown", .reset)
    // Interrupts
    public static let intxOnly = Self("intx-only", .interrupts)
    public static let intxMaskingBroken = Self("intx-masking-broken", .interrupts)
    public static let interruptsUnknown = Self("interrupts-unknown", .interrupts)
    public static let msiAvailable = Self("msi-available", .interrupts)
    // Function 0
    public static let function0Missing = Self("function0-missing", .function0)
    // SR-IOV
    public static let pfWithVFs = Self("pf-with-vfs", .sriov)
    public static let vfSharesPFState = Self("vf-shares-pf-state", .sriov)
    public static let vfSharedStateUnknown = Self("vf-shared-state-unknown", .sriov)
    public static let sriovUnknown = Self("sriov-unknown", .sriov)
    public static let detachedVF = Self("detached-vf", .sriov)
    public static let vfDependsOnPF = Self("vf-depends-on-pf", .sriov)
    public static let vfsNotCreated = Self("vfs-not-created", .sriov)
    public static let notSRIOVPF = Self("not-sriov-pf", .sriov)
    // MMIO window
    public static let largeBAR = Self("large-bar", .mmioWindow)
    public static let barsSized = Self("bars-sized", .mmioWindow)
    public static let mmioBudget = Self("mmio-budget", .mmioWindow)
    public static let mmioBudgetLarge = Self("mmio-budget-large", .mmioWindow)
    // Plan
    public static let planForced = Self("plan-forced", .placement)
    public static let planHideIgnored = Self("plan-hide-ignored", .placement)
    public static let planBridgeStays = Self("plan-bridge-stays", .placement)
    public static let planNothingVisible = Self("plan-nothing-visible", .placement)
    public static let planPFWithVFs = Self("plan-pf-with-vfs", .placement)
    public static let planFunction0Missing = Self("plan-function0-missing", .placement)
    public static let planVFOwnSlot = Self("plan-vf-own-slot", .placement)
    public static let planRootPorts = Self("plan-root-ports", .placement)
    public static let planSlotSplit = Self("plan-slot-split", .placement)
    public static let planExtendedConfig = Self("plan-extended-config", .placement)
    public static let planTooManyControllers = Self("plan-too-many-controllers", .placement)
    public static let planTooManySlots = Self("plan-too-many-slots", .placement)
    public static let planDomainTooLarge = Self("plan-domain-too-large", .placement)
    public static let planBackendUnavailable = Self("plan-backend-unavailable", .placement)
    public static let planBackendUnverified = Self("plan-backend-unverified", .placement)
    public static let planIDsCapture = Self("plan-ids-capture", .placement)

    /// Every declared code.
    public static let all: [FindingCode] = [
        .iommuOn, .iommuOff, .iommuUnknown, .notInGroup, .iommuPassthroughDefault,
        .interruptRemappingOn, .noInterruptRemapping, .interruptRemappingOff, .interruptRemappingUnknown, .unsafeInterruptsAllowed, .noiommuMode,
        .acsOverride, .acsDisabled, .acsConfigured, .noACSOverride, .commandLineUnknown, .groupPredictionMismatch, .predictionUncertain,
        .groupExpanded, .sharedGroup, .sharesWithBridge, .groupIncomplete, .groupUncertain, .groupUnknown, .groupWhole, .relatedElsewhere,
        .bridgesOnly, .chipsetFunction, .identityUnknown, .notResponding, .endpoint, .directMapping,
        .hostDriver, .noDriver, .driverUnknown, .vfioPCINotLoaded, .vfioDenylist, .vfioBound,
        .backendAvailable, .backendNotLoaded, .noBackend, .backendUnknown,
        .vgpuTypeSet, .vgpuTypeUnset, .vgpuTypeUnknown,
        .migratable, .notMigratable, .migrationUnverified, .migrationUnknown,
        .hostMounted, .hostSwap, .hostNetUp, .bootVGA, .hostBlockDevice, .hostUseUnknown, .vfioInUse, .hostUseClear,
        .firmwareFramebuffer, .firmwareFramebufferUnknown,
        .resetAvailable, .noReset, .busResetOnly, .resetUnknown,
        .intxOnly, .intxMaskingBroken, .interruptsUnknown, .msiAvailable,
        .function0Missing,
        .pfWithVFs, .vfSharesPFState, .vfSharedStateUnknown, .sriovUnknown, .detachedVF, .vfDependsOnPF, .vfsNotCreated, .notSRIOVPF,
        .largeBAR, .barsSized, .mmioBudget, .mmioBudgetLarge,
        .planForced, .planHideIgnored, .planBridgeStays, .planNothingVisible, .planPFWithVFs, .planFunction0Missing,
        .planVFOwnSlot, .planRootPorts, .planSlotSplit, .planExtendedConfig, .planTooManyControllers, .planTooManySlots, .planDomainTooLarge,
        .planBackendUnavailable, .planBackendUnverified, .planIDsCapture,
    ]

    static let byName: [String: FindingCode] = Dictionary(all.map { ($0.rawValue, $0) }, uniquingKeysWith: { a, _ in a })
}

/// One conclusion about the host, a group or a function: a stable code, a severity, what it means,
/// which functions it concerns, the evidence it rests on, and what to do.
///
/// `.unknown` is a result of its own: the rule needed a fact the input does not hold. Its `evidence`
/// names the missing fact and `fix` what would supply it; it is never read as a pass or a fail.
public struct Finding: Hashable, Sendable {
    /// `info` (evidence, or a PASS), `warn` (preparation), `unknown` (a missing fact), `fail` (blocks); ordered so.
    public enum Severity: String, Hashable, Sendable, Comparable {
        case info, warn, unknown, fail
        var rank: Int { switch self { case .info: 0; case .warn: 1; case .unknown: 2; case .fail: 3 } }
        public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
    }

    public let code: FindingCode
    public let severity: Severity
    public let message: String
    public let functions: [PCIAddress]
    public let evidence: [String]
    public let fix: String?
    /// The fix as steps a script can run, in order (`check --fix-script` prints them; JSON `fixSteps`). `nil`
    /// when the fix cannot be expressed as commands (a firmware setting, a reboot with a kernel parameter,
    /// stopping a guest): then `fix` says what to do by hand.
    public let steps: [FixStep]?

    public init(_ code: FindingCode, _ severity: Severity, _ message: String, functions: [PCIAddress] = [], evidence: [String] = [], fix: String? = nil,
                steps: [FixStep]? = nil) {
        self.code = code
        self.severity = severity
        self.steps = steps
        // Messages, evidence and fixes quote names from the input: escaped once here, for every renderer.
        self.message = TerminalSafe.escape(message)
        self.functions = functions
        self.evidence = evidence.map(TerminalSafe.escape)
        self.fix = fix.map(TerminalSafe.escape)
    }

    /// An UNKNOWN finding from a missing fact: the message says what could not be decided, the evidence
    /// says why the fact is missing, the fix what would supply it.
    public static func unknown(_ code: FindingCode, _ message: String, functions: [PCIAddress] = [], _ missing: Unknown) -> Finding {
        Finding(code, .unknown, message, functions: functions, evidence: ["unknown: \(missing.reason)"], fix: missing.remedy)
    }
}

/// One step of a fix, as a script runs it.
public enum FixStep: Hashable, Sendable, CustomStringConvertible {
    /// Write `value` to the sysfs (or proc) file `path` (absolute, on the host).
    case write(path: String, value: String)
    /// Run a command, `argv[0]` found on PATH.
    case run([String])

    /// The step as one POSIX shell line.
    public var description: String {
        switch self {
        case let .write(path, value): "echo \(FixStep.quote(value)) > \(FixStep.quote(path))"
        case let .run(argv): argv.map(FixStep.quote).joined(separator: " ")
        }
    }

    /// A word quoted for sh where it needs it.
    static func quote(_ word: String) -> String {
        if !word.isEmpty, word.utf8.allSatisfy({ $0 == 0x2d || $0 == 0x2e || $0 == 0x2f || $0 == 0x3a || $0 == 0x5f || $0 == 0x3d || (0x30...0x39).contains($0) || (0x41...0x5a).contains($0) || (0x61...0x7a).contains($0) }) {
            return word
        }
        return "'" + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }

    /// Bind `a` to `driver` (vfio-pci, or a VFIO variant driver) now and at every later probe: driver_override, unbind from its driver (when bound),
    /// then drivers_probe (Documentation/ABI/testing/sysfs-bus-pci: driver_override).
    public static func bindVFIO(_ a: PCIAddress, bound: Bool, driver: String = "vfio-pci") -> [FixStep] {
        let dir = "/sys/bus/pci/devices/\(a)"
        return [.write(path: dir + "/driver_override", value: driver)]
            + (bound ? [.write(path: dir + "/driver/unbind", value: a.description)] : [])
            + [.write(path: "/sys/bus/pci/drivers_probe", value: a.description)]
    }
}

/// What a unit's findings add up to.
public enum UnitVerdict: String, Hashable, Sendable, CaseIterable {
    case ready
    case needsPreparation = "needs-preparation"
    case blocked
    /// Something that decides the verdict is unknown (and nothing known blocks).
    case undetermined

    /// fail → blocked; else unknown → undetermined; else a warning that asks for preparation → needs
    /// preparation; else ready. A known blocker blocks even when other facts are unknown; an unknown is never
    /// read as a pass. A caution (`FindingCode.isCaution`: no reset, INTx only, state shared with a PF) is a
    /// WARN on its check line but asks for nothing to be done, so it leaves a unit ready.
    public init(_ findings: [Finding]) {
        let worst = findings.map { $0.severity == .warn && $0.code.isCaution ? .info : $0.severity }.max() ?? .info
        switch worst {
        case .fail: self = .blocked
        case .unknown: self = .undetermined
        case .warn: self = .needsPreparation
        case .info: self = .ready
        }
    }
}

/// Drivers that let VFIO use a function, and those that leave its group viable (`driver_managed_dma`: the
/// kernel lets VFIO claim a group only when every bound member's driver manages its own DMA, Linux 5.19+).
/// Names as sysfs spells them (`pci_driver.name`), from torvalds/linux after v7.0-rc1: vfio-pci and its eight
/// variant drivers (drivers/vfio/pci/*), pci-stub (drivers/pci/pci-stub.c) and pcieport (drivers/pci/pcie/portdrv.c).
/// The kernel enforces it in pci_dma_configure (drivers/pci/pci-driver.c) through iommu_device_use_default_domain,
/// and VFIO's claim (iommu_group_claim_dma_owner, iommu_device_claim_dma_owner) fails with EPERM while any
/// member is bound to a driver without it.
public enum VFIODrivers {
    /// vfio-pci and the variant drivers built on vfio-pci-core (drivers/vfio/pci/*).
    public static let vfioPCIDrivers: Set<String> = Set(VFIOPCIDriverInfo.inTree.map(\.driver))
    /// Every PCI driver that sets `driver_managed_dma`.
    public static let driverManagedDMA: Set<String> = vfioPCIDrivers.union(["pci-stub", "pcieport"])

    public static func isVFIO(_ driver: String?) -> Bool {
        guard let driver else { return false }
        // A variant driver newer than the list still follows the naming of the others (a driver name is
        // letters, digits, '_' and '-': anything else is not one).
        guard driver.utf8.allSatisfy({ $0 == 0x5f || $0 == 0x2d || (0x30...0x39).contains($0) || (0x41...0x5a).contains($0) || (0x61...0x7a).contains($0) }) else { return false }
        return vfioPCIDrivers.contains(driver) || driver.hasSuffix("_vfio_pci") || driver.hasSuffix("-vfio-pci")
    }

    /// Drivers outside vfio-pci's family that register VFIO devices for the functions they keep: NVIDIA's `nvidia`
    /// for vGPU VFs (vGPU 17+, vfio_pci_core_register_device with ops "nvidia-vfio-pci").
    public static let vendorVFIODrivers: Set<String> = ["nvidia"]

    /// Whether `driver` can have registered a VFIO device (`vfio-dev/vfioN`) for its function.
    public static func registersVFIODevices(_ driver: String?) -> Bool {
        isVFIO(driver) || driver.map(vendorVFIODrivers.contains) == true
    }

    public static func isHeldFromHost(_ driver: String?) -> Bool {
        driver == nil || isVFIO(driver) || driver == "pci-stub"
    }
}
