import PCIConfigSpace
import PCIHost
import VFIOAnalysis

public struct DescribedFinding: Encodable, Sendable {
    public let code: String
    public let severity: String
    public let message: String
    public let functions: [String]
    public let evidence: [String]
    @Nullable public var fix: String?

    public init(_ f: Finding) {
        code = f.code
        severity = f.severity.rawValue
        message = f.message
        functions = f.functions.map(\.description)
        evidence = f.evidence
        fix = f.fix
    }
}

public struct DescribedReportHost: Encodable, Sendable {
    public let findings: [DescribedFinding]
    public let iommu: DescribedIOMMU
    @Nullable public var kernelCommandLine: String?
    public let diagnostics: [DescribedDiagnostic]
    /// Functions the IOMMU does not cover although it is on.
    public let ungrouped: [String]
}

public struct DescribedUnit: Encodable, Sendable {
    /// The kernel's group number; null for a predicted unit on a host without groups.
    @Nullable public var id: Int?
    public let members: [String]
    public let verdict: String
    public let findings: [DescribedFinding]
    public let why: [DescribedCause]
    public let predicted: Bool
}

/// `report --json`: the list contract plus verdicts, findings and the group prediction.
public struct DescribedReport: Encodable, Sendable {
    public let schemaVersion: Int
    public let source: DescribedSource
    public let host: DescribedReportHost
    public let functions: [DescribedFunction]
    public let groups: [DescribedUnit]
    public let predictedGroups: [DescribedPredictedGroup]
    @Nullable public var groupPredictionMatches: Bool?
    public let predictionUncertainties: [String]

    public init(_ model: HostModel, _ report: HostReport) {
        schemaVersion = JSONSchemaVersion.current
        source = DescribedSource(model.source)
        let listing = DescribedListing(model, functions: model.functions)
        host = DescribedReportHost(findings: report.hostFindings.map(DescribedFinding.init), iommu: listing.host.iommu,
                                   kernelCommandLine: model.environment.kernelCommandLine,
                                   diagnostics: listing.host.diagnostics, ungrouped: report.ungrouped.map(\.description))
        functions = listing.functions
        let acsOverride = model.environment.commandLineParameters["pcie_acs_override"]
        groups = report.units.map { u in
            let why = describedWhy(causes: u.causes, memberCount: u.members.count, predicted: u.predicted, acsOverride: acsOverride)
            return DescribedUnit(id: u.groupID, members: u.members.map(\.description), verdict: u.verdict.rawValue,
                                 findings: u.findings.map(DescribedFinding.init), why: why, predicted: u.predicted)
        }
        predictedGroups = report.prediction.groups.map { DescribedPredictedGroup(members: $0.members.map(\.description), why: $0.causes.map(DescribedCause.init)) }
        groupPredictionMatches = report.prediction.matchesKernel
        predictionUncertainties = report.prediction.uncertainties
    }
}

public struct DescribedCheck: Encodable, Sendable {
    public struct Line: Encodable, Sendable {
        public let check: String
        public let result: String
        public let findings: [DescribedFinding]
    }

    public let schemaVersion: Int
    public let selected: [String]
    public let unit: [String]
    public let added: [String]
    public let verdict: String
    public let exitStatus: Int
    public let checks: [Line]

    public init(_ result: CheckResult) {
        schemaVersion = JSONSchemaVersion.current
        selected = result.selected.map(\.description)
        unit = result.unit.map(\.description)
        added = result.added.map(\.0.description)
        verdict = result.verdict.rawValue
        exitStatus = Int(CheckLines.exitStatus(result.verdict))
        checks = CheckLines.lines(result.findings)
    }
}

/// The check lines, like virt-host-validate: one per subject, PASS / WARN / FAIL.
public enum CheckLines {
    static let subjects: [(String, Set<String>)] = [
        ("IOMMU enabled", ["iommu-off", "not-in-group"]),
        ("Interrupt remapping", ["no-interrupt-remapping", "interrupt-remapping-off", "unsafe-interrupts-allowed", "noiommu-mode"]),
        ("Groups trustworthy (no ACS override)", ["acs-override", "acs-disabled", "group-prediction-mismatch"]),
        ("Whole IOMMU group assigned", ["group-expanded"]),
        ("Drivers (vfio-pci)", ["host-driver", "no-driver", "vfio-pci-not-loaded"]),
        ("Not in use by the host", ["host-mounted", "host-net-up", "boot-vga", "host-block-device", "chipset-function"]),
        ("Reset", ["no-reset", "bus-reset-only", "capabilities-unreadable"]),
        ("Interrupts", ["intx-only"]),
        ("Function 0 present", ["function0-missing"]),
        ("SR-IOV", ["pf-with-vfs", "vf-shares-pf-state", "detached-vf", "vf-depends-on-pf", "vfs-not-created"]),
        ("64-bit MMIO window", ["large-bar"]),
    ]

    public static func lines(_ findings: [Finding]) -> [DescribedCheck.Line] {
        subjects.map { subject, codes in
            let mine = findings.filter { codes.contains($0.code) }
            let worst = mine.map(\.severity).max()
            let result = worst == .fail ? "FAIL" : worst == .warn ? "WARN" : "PASS"
            return DescribedCheck.Line(check: subject, result: result, findings: mine.map(DescribedFinding.init))
        }
    }

    public static func exitStatus(_ verdict: UnitVerdict) -> Int32 {
        switch verdict {
        case .ready: 0
        case .needsPreparation: 1
        case .blocked: 2
        }
    }
}
