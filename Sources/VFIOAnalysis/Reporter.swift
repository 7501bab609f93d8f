import PCIConfigSpace
import PCIHost

/// One assignable unit (an IOMMU group, or a predicted one when the kernel's groups are not in the input) with
/// its verdict (`UnitVerdict`: an unknown fact makes it `undetermined` unless something known blocks it).
public struct UnitReport: Sendable {
    public let groupID: Int?
    public let members: [PCIAddress]
    public let verdict: UnitVerdict
    public let findings: [Finding]
    public let causes: [GroupCause]
    /// Whether config space predicts exactly this group.
    public let predicted: Bool
    /// A function the kernel's groups do not hold (the IOMMU does not cover it, or the input lacks its group
    /// line): a unit of its own, with the finding that says which.
    public var outsideGroups: Bool = false
}

/// A unit before its rules run (`Reporter.plan`): its functions, and where its grouping comes from.
public struct UnitPlan: Sendable {
    enum Source: Sendable {
        /// One of the kernel's IOMMU groups.
        case kernelGroup(IOMMUGroup)
        /// A function in no kernel group, grown to what must go with it.
        case outsideGroups(Reporter.Expansion)
        /// A group predicted from config space (the input holds no kernel groups).
        case predicted(PredictedGroup)
    }
    let source: Source
    /// The unit's functions, as `UnitReport.members` will hold them.
    public let members: [PCIAddress]
}

/// The host's units before their rules run, with what every unit shares (`Reporter.plan`).
public struct ReportPlan: Sendable {
    /// The host rules' findings and what the group prediction says about the host (`HostReport.hostFindings`).
    public let hostFindings: [Finding]
    /// The host findings that block or leave things unknown: every unit carries them.
    let hostShared: [Finding]
    /// The units in report order: the kernel's groups, then each function in no group; or the predicted groups.
    public let units: [UnitPlan]
    /// The groups config space predicts (`GroupPredictor.predict`), compared with the kernel's.
    public let prediction: GroupPrediction
    /// Functions the kernel gave no group although the IOMMU is on.
    public let ungrouped: [PCIAddress]
    /// The switch index the related-function rules read (built once per report).
    public let switches: RelatedFunctions.SwitchIndex
}

public struct HostReport: Sendable {
    public let hostFindings: [Finding]
    public let units: [UnitReport]
    public let prediction: GroupPrediction
    /// Functions the kernel gave no group although the IOMMU is on (e.g. the AMD IOMMU function itself).
    public let ungrouped: [PCIAddress]
}

/// A planned assignment, expanded to whole groups.
public struct CheckResult: Sendable {
    public let selected: [PCIAddress]
    public let unit: [PCIAddress]
    /// Functions the expansion added, each with the reason.
    public let added: [(PCIAddress, String)]
    public let findings: [Finding]
    public let verdict: UnitVerdict
}

public enum Reporter {
    /// Every unit of the host with its verdict: the kernel's groups where the input has them, else the
    /// predicted groups (each uncertain one says so). Host findings that block or leave things unknown
    /// apply to every unit. `plan` then `evaluate` of every unit.
    public static func report(_ model: HostModel) -> HostReport {
        let plan = plan(model)
        return HostReport(hostFindings: plan.hostFindings, units: plan.units.map { evaluate($0, plan, model) },
                          prediction: plan.prediction, ungrouped: plan.ungrouped)
    }

    /// The host's units before their rules run: which functions each holds and where its grouping comes from, with
    /// the group prediction and the host findings every unit shares. The kernel's groups in their order, then each
    /// function in no group (grown to what must go with it); the predicted groups when the input has no kernel groups.
    public static func plan(_ model: HostModel) -> ReportPlan {
        let prediction = GroupPredictor.predict(model)
        let hostFindings = hostFindings(model, prediction)
        var units: [UnitPlan] = []
        if model.environment.groupSource.isKnown {
            units = model.groups.map { UnitPlan(source: .kernelGroup($0), members: $0.members) }
            // Functions in no kernel group are units too (never left out: a gate over the host must see them).
            let grouped = Set(model.groups.flatMap(\.members))
            for f in model.functions where !grouped.contains(f.address) {
                let expansion = expand([f.address], model, prediction)
                units.append(UnitPlan(source: .outsideGroups(expansion), members: expansion.unit))
            }
        } else {
            units = prediction.groups.map { UnitPlan(source: .predicted($0), members: $0.members) }
        }
        return ReportPlan(hostFindings: hostFindings, hostShared: hostFindings.filter { $0.severity == .fail || $0.severity == .unknown },
                          units: units, prediction: prediction, ungrouped: ungrouped(model), switches: RelatedFunctions.SwitchIndex(model))
    }

    /// One unit's findings and verdict: the host findings that block or leave things unknown, the rules over its
    /// functions, and (for a kernel group) the group's own integrity and the related functions elsewhere. A pure
    /// function of the unit, the plan and the model: a command that writes units one at a time evaluates each as
    /// it writes it, and holds no unit's findings longer (a function outside the kernel's groups keeps the
    /// findings of its expansion in the plan).
    public static func evaluate(_ unit: UnitPlan, _ plan: ReportPlan, _ model: HostModel) -> UnitReport {
        switch unit.source {
        case let .kernelGroup(g):
            let (members, missing) = resolve(g.members, model)
            var findings = plan.hostShared + FunctionRules.evaluate(members, model: model, missing: missing)
            findings += groupIntegrity(g, members: members, missing: missing, model: model)
            findings += RelatedFunctions.findings(g.members, model, index: plan.switches)
            let match = plan.prediction.match(forKernelGroup: g.id)
            return UnitReport(groupID: g.id, members: g.members, verdict: UnitVerdict(findings), findings: findings,
                              causes: match?.causes ?? [], predicted: match != nil)
        case let .outsideGroups(expansion):
            var findings = plan.hostShared + expansion.findings
            findings += FunctionRules.evaluate(expansion.unit.compactMap { model.function($0) }, model: model, missing: expansion.missing)
            var report = UnitReport(groupID: nil, members: expansion.unit, verdict: UnitVerdict(findings), findings: findings,
                                    causes: [], predicted: false)
            report.outsideGroups = true
            return report
        case let .predicted(g):
            let members = g.members.compactMap { model.function($0) }
            var findings = plan.hostShared + FunctionRules.evaluate(members, model: model)
            if let f = uncertainGroupFinding(g) { findings.append(f) }
            return UnitReport(groupID: nil, members: g.members, verdict: UnitVerdict(findings), findings: findings,
                              causes: g.causes, predicted: true)
        }
    }

    /// Functions the kernel gave no group although it made groups (e.g. the AMD IOMMU function itself).
    static func ungrouped(_ model: HostModel) -> [PCIAddress] {
        guard model.environment.groupSource.isKnown, model.environment.groupMembershipIncomplete == nil else { return [] }
        let grouped = Set(model.groups.flatMap(\.members))
        return model.functions.map(\.address).filter { !grouped.contains($0) }
    }

    /// A kernel group's members that the input has, and those it names but could not read.
    static func resolve(_ addresses: [PCIAddress], _ model: HostModel) -> ([PCIFunction], [PCIAddress]) {
        var members: [PCIFunction] = []
        var missing: [PCIAddress] = []
        for a in addresses {
            if let f = model.function(a) { members.append(f) } else { missing.append(a) }
        }
        return (members, missing)
    }

    /// Whether the kernel's group is complete and consistent in the input, and how many endpoints share it.
    static func groupIntegrity(_ g: IOMMUGroup, members: [PCIFunction], missing: [PCIAddress], model: HostModel) -> [Finding] {
        var findings: [Finding] = []
        if !missing.isEmpty {
            findings.append(.unknown(.groupIncomplete,
                "Group \(g.id) lists \(missing.map(\.description).joined(separator: ", ")), which the input could not read: what they are, and whether the unit can go to a guest, is unknown.",
                functions: missing, Unknown("the group names function(s) the scan skipped or that are not in the input", remedy: "read the host's own sysfs, or a complete snapshot")))
        }
        if let u = model.environment.groupMembershipIncomplete {
            findings.append(.unknown(.groupIncomplete, "Group \(g.id) may have members the input does not show.", functions: g.members, u))
        }
        if let why = g.inconsistency {
            findings.append(.unknown(.groupIncomplete, "Group \(g.id)'s membership is not certain: \(why).", functions: g.members,
                                     Unknown(why, remedy: "read the host's own sysfs")))
        }
        let inconsistent = members.filter { f in f.diagnostics.contains { $0.code == "group-inconsistent" } }
        if !inconsistent.isEmpty {
            findings.append(.unknown(.groupIncomplete,
                "The kernel's group links and listing disagree for \(inconsistent.map(\.address.description).joined(separator: ", ")): group \(g.id)'s membership is not certain.",
                functions: inconsistent.map(\.address), Unknown(inconsistent.flatMap { $0.diagnostics.filter { $0.code == "group-inconsistent" }.map(\.message) }.joined(separator: "; "),
                                                             remedy: "read the host's own sysfs")))
        }
        findings += KernelRefusals.directMappings(g)
        let endpoints = FunctionRules.endpoints(members)
        if endpoints.count > 1 {
            findings.append(Finding(.sharedGroup, .info,
                "Group \(g.id) holds \(endpoints.count) endpoints: they go to one VM together or stay unused; none can stay with the host.",
                functions: g.members))
        }
        return findings
    }

    /// An UNKNOWN finding for a predicted group that rests on a missing fact, with both outcomes.
    static func uncertainGroupFinding(_ g: PredictedGroup) -> Finding? {
        guard !g.isCertain else { return nil }
        let alternatives = g.ifIsolated.map { "{\($0.map(\.description).joined(separator: ", "))}" }.joined(separator: " ")
        return Finding(.groupUncertain, .unknown,
            "This predicted group rests on facts the input does not hold: at worst it is {\(g.members.map(\.description).joined(separator: ", "))}\(alternatives.isEmpty ? "" : "; if those facts isolate, the functions form \(alternatives)").",
            functions: g.members, evidence: g.unknowns.map { "unknown: \($0.reason)" },
            fix: Array(Set(g.unknowns.map(\.remedy))).sorted().joined(separator: "; "))
    }

    /// Host rules plus what the group prediction says about the host.
    static func hostFindings(_ model: HostModel, _ prediction: GroupPrediction) -> [Finding] {
        var findings = HostRules.evaluate(model)
        if prediction.matchesKernel == false {
            findings.append(Finding(.groupPredictionMismatch, .warn,
                "The kernel's groups differ from what config space predicts: an ACS override, a quirk this tool does not model, or firmware that keeps devices from the IOMMU.",
                functions: prediction.unexplainedKernelGroups.flatMap { $0 },
                evidence: prediction.unexplainedKernelGroups.map { "kernel group {\($0.map(\.description).joined(separator: ", "))} was not predicted" }))
        }
        for u in prediction.uncertainties {
            findings.append(Finding(.predictionUncertain, .info, "The group prediction is uncertain: \(u)."))
        }
        return findings
    }

    /// Readiness of assigning `selected`: expanded to every IOMMU group it touches (the kernel's groups
    /// where the input has them, else the predicted groups, which says so).
    public static func check(_ model: HostModel, selected: [PCIAddress]) -> CheckResult {
        let prediction = GroupPredictor.predict(model)
        var findings = hostFindings(model, prediction).filter { $0.code != .predictionUncertain }
        let expansion = expand(selected, model, prediction)
        findings += expansion.findings
        let functions = expansion.unit.compactMap { model.function($0) }
        findings += FunctionRules.evaluate(functions, model: model, missing: expansion.missing)
        for (m, why) in expansion.added where !(model.function(m).map { FunctionRules.endpoints([$0]).isEmpty } ?? true) {
            findings.append(Finding(.groupExpanded, .warn, why, functions: [m]))
        }
        findings += function0(selected, model)
        let related = RelatedFunctions.findings(expansion.unit, model)
        if !findings.contains(where: { $0.code.line == .wholeGroup }) {
            // The selection is whole groups: say which, and where the groups come from.
            let groups = Set(functions.compactMap(\.iommuGroup)).sorted()
            findings.append(Finding(.groupWhole, .info, "The selection is whole IOMMU group\(groups.count == 1 ? "" : "s") \(groups.map(String.init).joined(separator: ", ")).",
                                    functions: expansion.unit,
                                    evidence: groups.map { g in "IOMMU group \(g) = {\(model.groups.first { $0.id == g }?.members.map(\.description).joined(separator: ", ") ?? "")} (\(model.environment.groupSource.label))" }))
        }
        findings += related
        return CheckResult(selected: selected, unit: expansion.unit, added: expansion.added, findings: findings, verdict: UnitVerdict(findings))
    }

    struct Expansion: Sendable {
        var unit: [PCIAddress] = []
        var added: [(PCIAddress, String)] = []
        var missing: [PCIAddress] = []
        var findings: [Finding] = []
    }

    /// The selection grown to whole groups.
    static func expand(_ selected: [PCIAddress], _ model: HostModel, _ prediction: GroupPrediction) -> Expansion {
        var result = Expansion()
        var groupOf: [PCIAddress: IOMMUGroup] = [:]
        for g in model.groups {
            for m in g.members { groupOf[m] = g }
        }
        let selectedSet = Set(selected)
        var inUnit: Set<PCIAddress> = []
        func add(_ m: PCIAddress) {
            guard inUnit.insert(m).inserted else { return }
            result.unit.append(m)
            guard !selectedSet.contains(m) else { return }
            guard let f = model.function(m) else {
                result.missing.append(m)
                return
            }
            let role = FunctionRules.endpoints([f]).isEmpty
                ? "a bridge in the same group: it stays with the host (pcieport is fine)"
                : "an endpoint in the same IOMMU group: assign it to the same VM, or detach it from the host and keep it unused (libvirt <address type='unassigned'/>)"
            result.added.append((m, "\(m) is \(role)"))
        }
        let source = model.environment.groupSource
        for address in selected where !inUnit.contains(address) {
            if source.isKnown, let g = groupOf[address] {
                g.members.forEach(add)
                // Groups that may have members the input does not show: the unit is at least the predicted group.
                if model.environment.groupMembershipIncomplete != nil { prediction.group(of: address)?.members.forEach(add) }
                let (members, missing) = resolve(g.members, model)
                result.findings += groupIntegrity(g, members: members, missing: missing, model: model).filter { $0.code != .sharedGroup }
                continue
            }
            if let u = model.environment.groupMembershipIncomplete {
                // The unit is at least what config space says must go with it (the predicted group, worst case): an
                // unknown group never shrinks it to the function alone.
                add(address)
                prediction.group(of: address)?.members.forEach(add)
                // Lines that named several groups: it is in one of them, so the unit holds them all.
                for id in model.function(address)?.claimedGroups ?? [] { model.groups.first { $0.id == id }?.members.forEach(add) }
                result.findings.append(.unknown(.groupUnknown, "Which IOMMU group \(address) is in is unknown.", functions: [address], u))
                result.findings.append(directMappingUnknown(address))
                continue
            }
            switch source {
            case .groupDirectory, .deviceLinks:
                result.findings.append(Finding(.notInGroup, .fail, "\(address) is in no IOMMU group: the IOMMU does not cover it, so VFIO cannot assign it.",
                                               functions: [address], evidence: [HostRules.groupSourceEvidence(source) + ", and none holds \(address)"]))
                add(address)
            case .dumpLines:
                // No line for it in a dump that is otherwise whole (DumpScanner counts a lost line, or lines that
                // disagree, as incomplete membership, handled above): a function the kernel put in no group.
                add(address)
                result.findings.append(.unknown(.groupUnknown, "The dump has no `IOMMU group:` line for \(address): its group is unknown.", functions: [address],
                                                Unknown("lspci printed no group for \(address)", remedy: "capture with `lspci -nnkvvvxxxx` on the host, as root")))
            case .noneMade:
                // No kernel groups: the unit is the predicted group, as report shows it (iommu-off blocks anyway).
                guard let g = prediction.group(of: address) else { add(address); continue }
                g.members.forEach(add)
                if let f = uncertainGroupFinding(g) { result.findings.append(f) }
            case let .none(u):
                result.findings.append(directMappingUnknown(address))
                guard let g = prediction.group(of: address) else { add(address); continue }
                g.members.forEach(add)
                result.findings.append(.unknown(.groupUnknown,
                    "The kernel's IOMMU groups are not in the input: the unit is the group predicted from config space, {\(g.members.map(\.description).joined(separator: ", "))}, which kernel quirks can change.",
                    functions: g.members, u))
                if let f = uncertainGroupFinding(g) { result.findings.append(f) }
            }
        }
        result.unit.sort()
        return result
    }

    /// A group the input does not name has reserved regions it does not show either: whether the kernel refuses it
    /// for a firmware 1:1 mapping is unknown, never "no mapping".
    static func directMappingUnknown(_ address: PCIAddress) -> Finding {
        .unknown(.directMapping, "Whether the IOMMU group of \(address) has a firmware-mandated 1:1 mapping (which makes the kernel refuse to attach it to a VM) is unknown: which group it is, is unknown.",
                 functions: [address], Unknown("the group of \(address), and so its reserved_regions, is not in the input", remedy: "read sys/kernel/iommu_groups/N/reserved_regions on the host (a snapshot has it)"))
    }

    /// Guests enumerate functions 1–7 of a slot only when function 0 is there (x86 guests scan a slot's other
    /// functions only after function 0 answers; no kernel parameter changes that).
    static func function0(_ selected: [PCIAddress], _ model: HostModel) -> [Finding] {
        var findings: [Finding] = []
        let bySlot = Dictionary(grouping: selected, by: \.slot)
        for (slot, picks) in bySlot.sorted(by: { $0.key < $1.key }) {
            let nonVF = picks.filter { model.function($0)?.isVirtualFunction != true }
            if !nonVF.isEmpty, !nonVF.contains(where: { $0.function == 0 }) {
                findings.append(Finding(.function0Missing, .warn,
                    "The selection includes \(nonVF.map(\.description).joined(separator: ", ")) but not function 0 of slot \(slot): an x86 guest does not scan functions 1–7 of a slot without function 0, whatever its kernel parameters (a pseries guest may find them).",
                    functions: nonVF, fix: "Assign function 0 of \(slot) too, or place each selected function at function 0 of its own guest slot (`vfio-inspect plan` does this)."))
            }
        }
        return findings
    }
}

extension UnitVerdict {
    /// How bad the verdict is, for taking the worst over several units: blocked, then undetermined, then
    /// needs-preparation, then ready.
    public var rank: Int {
        switch self {
        case .ready: 0
        case .needsPreparation: 1
        case .undetermined: 2
        case .blocked: 3
        }
    }

    /// The worst of `verdicts`; `ready` for none.
    public static func worst<S: Sequence>(_ verdicts: S) -> UnitVerdict where S.Element == UnitVerdict {
        verdicts.max { $0.rank < $1.rank } ?? .ready
    }
}

extension UnitReport {
    /// The finding that decides the verdict: the first of the unit's worst severity (`nil` for a ready unit).
    public var decidingFinding: Finding? {
        guard verdict != .ready, let worst = findings.map(\.severity).max() else { return nil }
        return findings.first { $0.severity == worst }
    }
}

extension HostReport {
    /// The units holding any of `functions` (every unit when `nil`) whose verdict is `verdict` (any when `nil`),
    /// in report order. Units stay whole: a selection picks units, never parts of one.
    public func units(holding functions: Set<PCIAddress>?, verdict: UnitVerdict?) -> [UnitReport] {
        units.filter { u in
            (functions.map { chosen in u.members.contains(where: chosen.contains) } ?? true)
                && (verdict.map { u.verdict == $0 } ?? true)
        }
    }
}

extension HostReport {
    /// The same report with only `units` (a selection of its own units); host findings and the prediction stay.
    public func keeping(units kept: [UnitReport]) -> HostReport {
        HostReport(hostFindings: hostFindings, units: kept, prediction: prediction, ungrouped: ungrouped)
    }
}
