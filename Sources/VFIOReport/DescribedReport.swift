import PCIConfigSpace
import PCIHost
import VFIOAnalysis

public struct DescribedFinding: Encodable, Sendable {
    public let code: String
    /// The `check` line the code belongs to (`CheckLine.id`).
    public let line: String
    /// `info`, `warn`, `unknown`, `fail`.
    public let severity: String
    public let message: String
    public let functions: [String]
    public let evidence: [String]
    @Nullable public var fix: String?

    public init(_ f: Finding) {
        code = f.code.rawValue
        line = f.code.line.id
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
    /// For a predicted unit: false when it rests on facts the input does not hold.
    public let certain: Bool
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
    public let groupRules: DescribedGroupRules

    /// `keepingUnits` picks the units (`groups`) to publish; everything else is the whole host's.
    public init(_ model: HostModel, _ report: HostReport, keepingUnits: (UnitReport) -> Bool = { _ in true }) {
        schemaVersion = JSONSchemaVersion.current
        source = DescribedSource(model.source)
        let listing = DescribedListing(model, functions: model.functions)
        host = DescribedReportHost(findings: report.hostFindings.map(DescribedFinding.init), iommu: listing.host.iommu,
                                   kernelCommandLine: model.environment.kernelCommandLine.value,
                                   diagnostics: listing.host.diagnostics, ungrouped: report.ungrouped.map(\.description))
        functions = listing.functions
        let acsOverride = model.environment.commandLineParameters["pcie_acs_override"]
        groups = report.units.filter(keepingUnits).map { u in
            let why = describedWhy(causes: u.causes, memberCount: u.members.count, predicted: u.predicted, acsOverride: acsOverride,
                                   undecided: !report.prediction.unexplainedKernelGroups.contains(u.members.sorted()))
            let certain = u.groupID != nil || report.prediction.group(of: u.members[0])?.isCertain ?? true
            return DescribedUnit(id: u.groupID, members: u.members.map(\.description), verdict: u.verdict.rawValue,
                                 findings: u.findings.map(DescribedFinding.init), why: why, predicted: u.predicted, certain: certain)
        }
        predictedGroups = report.prediction.groups.map(DescribedPredictedGroup.init)
        groupPredictionMatches = report.prediction.matchesKernel
        predictionUncertainties = report.prediction.uncertainties
        groupRules = DescribedGroupRules(report.prediction)
    }
}

public struct DescribedCheck: Encodable, Sendable {
    public struct Line: Encodable, Sendable {
        /// Stable machine id (`iommu`, `reset`, …).
        public let id: String
        public let check: String
        /// `PASS`, `WARN`, `FAIL` or `UNKNOWN`.
        public let result: String
        /// The facts the result rests on: the evidence of the line's findings (for a PASS, of its info findings:
        /// the IOMMU groups, the reset methods, the MSI capabilities, …). Empty when no rule produced a finding.
        public let restsOn: [String]
        public let findings: [DescribedFinding]
    }

    public let schemaVersion: Int
    public let selected: [String]
    public let unit: [String]
    public let added: [String]
    /// `ready`, `needs-preparation`, `blocked`, `undetermined`.
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

/// The check lines, like virt-host-validate: one per subject, PASS / WARN / FAIL / UNKNOWN. A line's result
/// is its worst finding: FAIL over UNKNOWN over WARN over PASS (an unknown fact is never a pass).
public enum CheckLines {
    /// The lines `check` prints (the plan line only where a finding of a plan is on it).
    public static func lines(_ findings: [Finding]) -> [DescribedCheck.Line] {
        CheckLine.all.compactMap { line in
            let mine = findings.filter { $0.code.line == line }
            if line == .placement && mine.isEmpty { return nil }
            var basis: [String] = []
            for e in mine.flatMap(\.evidence) where !basis.contains(e) { basis.append(e) }
            return DescribedCheck.Line(id: line.id, check: line.title, result: result(mine), restsOn: basis, findings: mine.map(DescribedFinding.init))
        }
    }

    public static func result(_ findings: [Finding]) -> String {
        switch findings.map(\.severity).max() {
        case .fail?: "FAIL"
        case .unknown?: "UNKNOWN"
        case .warn?: "WARN"
        default: "PASS"
        }
    }

    /// 0 ready, 1 needs preparation, 2 blocked, 4 undetermined (3 is an unusable input, 5 a selector that matched nothing).
    public static func exitStatus(_ verdict: UnitVerdict) -> Int32 {
        switch verdict {
        case .ready: 0
        case .needsPreparation: 1
        case .blocked: 2
        case .undetermined: 4
        }
    }
}
