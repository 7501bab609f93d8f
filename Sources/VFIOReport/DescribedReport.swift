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
    /// The fix as steps a script runs in order; `null` when it cannot be expressed as commands.
    @Nullable public var fixSteps: [DescribedFixStep]?

    public init(_ f: Finding) {
        code = f.code.rawValue
        line = f.code.line.id
        severity = f.severity.rawValue
        message = f.message
        functions = f.functions.map(\.description)
        evidence = f.evidence
        fix = f.fix
        fixSteps = f.steps.map { $0.map(DescribedFixStep.init) }
    }
}

/// One fix step in JSON: `{"write": PATH, "value": VALUE}` or `{"run": [ARGV…]}`.
public struct DescribedFixStep: Encodable, Sendable {
    public let step: FixStep

    public init(_ step: FixStep) { self.step = step }

    enum Keys: String, CodingKey { case write, value, run }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        switch step {
        case let .write(path, value):
            try c.encode(path, forKey: .write)
            try c.encode(value, forKey: .value)
        case let .run(argv):
            try c.encode(argv, forKey: .run)
        }
    }
}

/// `check --fix-script`: the unit's fixes as a POSIX shell script, in the order they must run (host use first,
/// then loading vfio-pci, SR-IOV, then drivers). Only for a unit that needs preparation: a blocked or undetermined
/// unit's script says why in comments and exits with the verdict's status before any step; fixes that cannot be
/// expressed as commands are listed first, as comments, for the admin to do.
public enum FixScript {
    /// The unit's steps in the order they must run; `nil` when the unit is blocked or undetermined (nothing is to
    /// be run), `[]` when it is ready.
    public static func steps(_ result: CheckResult) -> [(finding: Finding, steps: [FixStep])]? {
        switch result.verdict {
        case .ready: return []
        case .blocked, .undetermined: return nil
        case .needsPreparation: break
        }
        func rank(_ f: Finding) -> Int {
            if f.code == .vfioPCINotLoaded { return 2 }
            switch f.code.line {
            case .hostUse: return 0
            case .sriov: return 1
            case .drivers: return 3
            default: return 4
            }
        }
        var seen: Set<String> = []
        var out: [(Finding, [FixStep])] = []
        for f in result.findings.filter({ $0.steps != nil && ($0.severity != .info || $0.code == .vfioPCINotLoaded) }).sorted(by: { rank($0) < rank($1) }) {
            let fresh = (f.steps ?? []).filter { seen.insert($0.description).inserted }
            if !fresh.isEmpty { out.append((f, fresh)) }
        }
        return out
    }

    /// The script; `source` names the input it was computed from (the host whose /sys it writes to).
    public static func render(_ result: CheckResult, source: String) -> String {
        var out = ["#!/bin/sh", "# vfio-inspect check --fix-script \(result.selected.map(\.description).joined(separator: " "))",
                   "# computed from \(source): run it on that host",
                   "# unit: \(result.unit.map(\.description).joined(separator: " ")); verdict: \(result.verdict.rawValue)"]
        guard let steps = steps(result) else {
            for f in result.findings where f.severity == .fail || f.severity == .unknown {
                out.append("# \(f.severity.rawValue): \(f.code): \(f.message)")
            }
            out.append("exit \(CheckLines.exitStatus(result.verdict))")
            return out.joined(separator: "\n") + "\n"
        }
        if result.verdict == .ready {
            out.append("# nothing to prepare")
            return out.joined(separator: "\n") + "\n"
        }
        // What cannot be a command comes first: the admin does it before (or instead of) the steps below.
        for f in result.findings where f.severity == .warn && f.steps == nil && !f.code.isCaution {
            if let fix = f.fix { out.append("# by hand first (\(f.code)): \(fix)") }
        }
        out.append("# the bindings below last until reboot; `driverctl set-override` keeps them")
        out.append("set -e")
        for (f, list) in steps {
            out.append("# \(f.code): \(f.message)")
            out += list.map(\.description)
        }
        return out.joined(separator: "\n") + "\n"
    }
}

public struct DescribedReportHost: Encodable, Sendable {
    public let findings: [DescribedFinding]
    public let iommu: DescribedIOMMU
    public let vfioBackends: DescribedVFIOBackends
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
    /// Whether the unit can be live-migrated (every endpoint's VFIO driver implements migration); null when unknown
    /// or when it has no endpoint.
    @Nullable public var migratable: Bool?
    /// Functions of the same device that sit in other groups.
    public let related: [DescribedRelated]
}

/// `report --json`: the list contract plus verdicts, findings and the group prediction.
///
/// Functions, units and resets are described only as they are written (`LazyJSONArray`), and the report writes its
/// own members (`JSONDirect`), so its output streams.
public struct DescribedReport: Encodable, Sendable {
    public let schemaVersion: Int
    public let source: DescribedSource
    public let host: DescribedReportHost
    public let functions: LazyJSONArray<DescribedFunction>
    public let groups: LazyJSONArray<DescribedUnit>
    public let predictedGroups: [DescribedPredictedGroup]
    @Nullable public var groupPredictionMatches: Bool?
    public let predictionUncertainties: [String]
    public let groupRules: DescribedGroupRules
    /// How each function that is not a bridge can be reset, and what VFIO's hot reset of it would also reset.
    public let resets: LazyJSONArray<DescribedVFIOReset>

    /// `keepingUnits` picks the units (`groups`) to publish; everything else is the whole host's.
    public init(_ model: HostModel, _ report: HostReport, keepingUnits: (UnitReport) -> Bool = { _ in true }) {
        let kept = report.units.filter(keepingUnits)
        self.init(model, hostFindings: report.hostFindings, prediction: report.prediction, ungrouped: report.ungrouped,
                  switches: RelatedFunctions.SwitchIndex(model), unitCount: kept.count) { kept[$0] }
    }

    /// The report of `plan`'s units at `units` (indices into `plan.units`, in the order given), each evaluated only
    /// as it is written (`Reporter.evaluate`), so no unit's findings are held past its own: the output is the same as
    /// from `Reporter.report`. `verdicts` gets each unit's verdict, by its position in `units`, as it is written.
    public init(_ model: HostModel, _ plan: ReportPlan, units: [Int], recording verdicts: WrittenVerdicts) {
        self.init(model, hostFindings: plan.hostFindings, prediction: plan.prediction, ungrouped: plan.ungrouped,
                  switches: plan.switches, unitCount: units.count) { i in
            let unit = Reporter.evaluate(plan.units[units[i]], plan, model)
            verdicts.record(i, unit.verdict)
            return unit
        }
    }

    private init(_ model: HostModel, hostFindings: [Finding], prediction: GroupPrediction, ungrouped: [PCIAddress],
                 switches: RelatedFunctions.SwitchIndex, unitCount: Int, unit: @escaping @Sendable (Int) -> UnitReport) {
        schemaVersion = JSONSchemaVersion.current
        source = DescribedSource(model.source)
        let described = DescribedHost(model)
        host = DescribedReportHost(findings: hostFindings.map(DescribedFinding.init), iommu: described.iommu, vfioBackends: described.vfioBackends,
                                   kernelCommandLine: described.kernelCommandLine, diagnostics: described.diagnostics,
                                   ungrouped: ungrouped.map(\.description))
        let all = model.functions
        functions = LazyJSONArray(count: all.count) { DescribedFunction(all[$0]) }
        let acsOverride = model.environment.commandLineParameters["pcie_acs_override"]
        let unexplained = Set(prediction.unexplainedKernelGroups)
        groups = LazyJSONArray(count: unitCount) { i in
            let u = unit(i)
            let why = describedWhy(causes: u.causes, memberCount: u.members.count, predicted: u.predicted, acsOverride: acsOverride,
                                   undecided: !unexplained.contains(u.members.sorted()))
            let certain = u.groupID != nil || prediction.group(of: u.members[0])?.isCertain ?? true
            return DescribedUnit(id: u.groupID, members: u.members.map(\.description), verdict: u.verdict.rawValue,
                                 findings: u.findings.map(DescribedFinding.init), why: why, predicted: u.predicted, certain: certain,
                                 migratable: VFIOBackendRules.migratable(u.members.compactMap { model.function($0) }, model),
                                 related: RelatedFunctions.related(to: u.members, model, index: switches).map(DescribedRelated.init))
        }
        predictedGroups = prediction.groups.map(DescribedPredictedGroup.init)
        groupPredictionMatches = prediction.matchesKernel
        predictionUncertainties = prediction.uncertainties
        groupRules = DescribedGroupRules(prediction)
        let resettable = model.functions.indices.filter { !model.functions[$0].isBridge }
        resets = LazyJSONArray(count: resettable.count) { DescribedVFIOReset(model.functions[resettable[$0]], model) }
    }
}

/// The verdicts of the units a streamed `DescribedReport` has written, by position (`nil` until written). The
/// encoder writes on the command's one thread and the verdicts are read after it returns: no two accesses overlap.
public final class WrittenVerdicts: Sendable {
    public nonisolated(unsafe) private(set) var verdicts: [UnitVerdict?]

    public init(count: Int) {
        verdicts = Array(repeating: nil, count: count)
    }

    func record(_ position: Int, _ verdict: UnitVerdict) {
        verdicts[position] = verdict
    }
}

/// A function's reset as VFIO sees it: whether `VFIO_DEVICE_RESET` can work (`vdev->reset_works`, set when
/// `pci_try_reset_function` succeeds on open: some method in the kernel's list, drivers/vfio/pci/vfio_pci_core.c),
/// and the bus or slot reset of `VFIO_DEVICE_PCI_HOT_RESET` (through the parent bridge; none on a root bus, where
/// the kernel answers ENODEV), with everything else it reaches.
public struct DescribedVFIOReset: Encodable, Sendable {
    public let address: String
    /// `true` when the kernel has (or config space shows) a reset method for the function, `false` when it has
    /// none, `null` when that is unknown.
    @Nullable public var resettable: Bool?
    @Nullable public var methods: [String]?
    /// The bridge whose secondary bus (or slot) reset reaches the function; `null` on a root bus or when unknown.
    @Nullable public var hotResetThrough: String?
    /// The other functions that hot reset also resets; `null` when unknown.
    @Nullable public var hotResetAlsoResets: [String]?
    /// Whether the position is known (false: the two fields above are unknown, not absent).
    public let positionKnown: Bool

    public init(_ f: PCIFunction, _ model: HostModel) {
        address = f.address.description
        let c = ResetRules.capability(f, model)
        methods = c.methods.value
        resettable = c.methods.value.map { !$0.isEmpty } ?? nil
        hotResetThrough = c.hotResetThrough?.description
        hotResetAlsoResets = c.busResetCollateral.value.map { $0.map(\.description) }
        positionKnown = f.position.isKnown
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
    /// How each member that is not a bridge can be reset, and what VFIO's hot reset of it also resets.
    public let resets: [DescribedVFIOReset]
    /// The unit's fix steps in the order they must run (what `--fix-script` prints): `[]` when ready, `null` when
    /// blocked or undetermined (nothing is to be run). Each finding's own `fixSteps` are the same steps unordered.
    @Nullable public var fixSteps: [DescribedFixStep]?
    /// Whether the unit can be live-migrated; null when unknown (the `migration` line says why).
    @Nullable public var migratable: Bool?
    /// Functions of the same device as the unit's members that sit in other groups (`plan --with-related` takes them).
    public let related: [DescribedRelated]

    public init(_ result: CheckResult, _ model: HostModel) {
        schemaVersion = JSONSchemaVersion.current
        selected = result.selected.map(\.description)
        unit = result.unit.map(\.description)
        added = result.added.map(\.0.description)
        verdict = result.verdict.rawValue
        exitStatus = Int(CheckLines.exitStatus(result.verdict))
        checks = CheckLines.lines(result.findings)
        resets = result.unit.compactMap { model.function($0) }.filter { !$0.isBridge }.map { DescribedVFIOReset($0, model) }
        fixSteps = FixScript.steps(result).map { $0.flatMap(\.steps).map(DescribedFixStep.init) }
        migratable = VFIOBackendRules.migratable(result.unit.compactMap { model.function($0) }, model)
        related = RelatedFunctions.related(to: result.unit, model).map(DescribedRelated.init)
    }
}

/// The check lines, like virt-host-validate: one per subject, PASS / WARN / FAIL / UNKNOWN. A line's result
/// is its worst finding: FAIL over UNKNOWN over WARN over PASS (an unknown fact is never a pass).
public enum CheckLines {
    /// The lines `check` prints (the plan line only where a finding of a plan is on it).
    public static func lines(_ findings: [Finding]) -> [DescribedCheck.Line] {
        CheckLine.all.compactMap { line in
            let mine = findings.filter { $0.code.line == line }
            if (line == .placement || line == .vgpu) && mine.isEmpty { return nil }
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

extension DescribedReport: JSONDirect {
    func writeJSON(_ o: inout JSONObjectWriter) throws {
        try o.member("functions", functions)
        try o.member("groupPredictionMatches", groupPredictionMatches)
        try o.member("groupRules", groupRules)
        try o.member("groups", groups)
        try o.member("host", host)
        try o.member("predictedGroups", predictedGroups)
        try o.member("predictionUncertainties", predictionUncertainties)
        try o.member("resets", resets)
        try o.member("schemaVersion", schemaVersion)
        try o.member("source", source)
    }
}

extension DescribedFinding: JSONDirect {
    func writeJSON(_ o: inout JSONObjectWriter) throws {
        try o.member("code", code)
        try o.member("evidence", evidence)
        try o.member("fix", fix)
        try o.member("fixSteps", fixSteps)
        try o.member("functions", functions)
        try o.member("line", line)
        try o.member("message", message)
        try o.member("severity", severity)
    }
}

extension DescribedUnit: JSONDirect {
    func writeJSON(_ o: inout JSONObjectWriter) throws {
        try o.member("certain", certain)
        try o.member("findings", findings)
        try o.member("id", id)
        try o.member("members", members)
        try o.member("migratable", migratable)
        try o.member("predicted", predicted)
        try o.member("related", related)
        try o.member("verdict", verdict)
        try o.member("why", why)
    }
}

extension DescribedVFIOReset: JSONDirect {
    func writeJSON(_ o: inout JSONObjectWriter) throws {
        try o.member("address", address)
        try o.member("hotResetAlsoResets", hotResetAlsoResets)
        try o.member("hotResetThrough", hotResetThrough)
        try o.member("methods", methods)
        try o.member("positionKnown", positionKnown)
        try o.member("resettable", resettable)
    }
}
