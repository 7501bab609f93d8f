import PCIConfigSpace
import PCIHost

/// One assignable unit (an IOMMU group, or a predicted one when the kernel made none) with its verdict.
public struct UnitReport: Sendable {
    public let groupID: Int?
    public let members: [PCIAddress]
    public let verdict: UnitVerdict
    public let findings: [Finding]
    public let causes: [GroupCause]
    /// Whether config space predicts exactly this group.
    public let predicted: Bool
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
    public static func report(_ model: HostModel) -> HostReport {
        let prediction = GroupPredictor.predict(model)
        let hostFindings = hostFindings(model, prediction)
        let hostFail = hostFindings.filter { $0.severity == .fail }
        var units: [UnitReport] = []
        let grouped = Set(model.groups.flatMap(\.members))
        if model.groups.isEmpty {
            for g in prediction.groups {
                let members = g.members.compactMap { model.function($0) }
                let findings = hostFail + FunctionRules.evaluate(members, model: model)
                units.append(UnitReport(groupID: nil, members: g.members, verdict: UnitVerdict(findings), findings: findings,
                                        causes: g.causes, predicted: true))
            }
        } else {
            for g in model.groups {
                let members = g.members.compactMap { model.function($0) }
                let match = prediction.match(forKernelGroup: g.id)
                var findings = hostFail + FunctionRules.evaluate(members, model: model)
                if members.count > 1 && FunctionRules.endpoints(members).count > 1 {
                    findings.append(Finding("shared-group", .info,
                        "Group \(g.id) holds \(FunctionRules.endpoints(members).count) endpoints: they go to one VM together or stay unused; none can stay with the host.",
                        functions: g.members))
                }
                units.append(UnitReport(groupID: g.id, members: g.members, verdict: UnitVerdict(findings), findings: findings,
                                        causes: match?.causes ?? [], predicted: match != nil))
            }
        }
        let ungrouped = model.groups.isEmpty ? [] : model.functions.map(\.address).filter { !grouped.contains($0) }
        return HostReport(hostFindings: hostFindings, units: units, prediction: prediction, ungrouped: ungrouped)
    }

    /// Host rules plus what the group prediction says about the host.
    static func hostFindings(_ model: HostModel, _ prediction: GroupPrediction) -> [Finding] {
        var findings = HostRules.evaluate(model)
        if prediction.matchesKernel == false {
            findings.append(Finding("group-prediction-mismatch", .warn,
                "The kernel's groups differ from what config space predicts: an ACS override, a quirk this tool does not model, or firmware that keeps devices from the IOMMU.",
                functions: prediction.unexplainedKernelGroups.flatMap { $0 },
                evidence: prediction.unexplainedKernelGroups.map { "kernel group {\($0.map(\.description).joined(separator: ", "))} was not predicted" }))
        }
        for u in prediction.uncertainties {
            findings.append(Finding("prediction-uncertain", .info, "The group prediction is uncertain: \(u)."))
        }
        return findings
    }

    /// Readiness of assigning `selected`: expanded to every group it touches.
    public static func check(_ model: HostModel, selected: [PCIAddress]) -> CheckResult {
        // Only the host findings and the kernel's groups matter here: no other group is evaluated.
        var findings = hostFindings(model, GroupPredictor.predict(model)).filter { $0.severity != .info || $0.code == "vfio-pci-not-loaded" }
        var groupOf: [PCIAddress: IOMMUGroup] = [:]
        for g in model.groups {
            for m in g.members { groupOf[m] = g }
        }
        let selectedSet = Set(selected)
        var unit: [PCIAddress] = []
        var inUnit: Set<PCIAddress> = []
        var added: [(PCIAddress, String)] = []
        for address in selected where !inUnit.contains(address) {
            // Without an IOMMU there are no real groups to expand to (the iommu-off finding blocks anyway).
            guard !model.groups.isEmpty, let u = groupOf[address] else {
                if !model.groups.isEmpty {
                    findings.append(Finding("not-in-group", .fail, "\(address) is in no IOMMU group: the IOMMU does not cover it, so VFIO cannot assign it.",
                                            functions: [address]))
                }
                inUnit.insert(address)
                unit.append(address)
                continue
            }
            for m in u.members where inUnit.insert(m).inserted {
                unit.append(m)
                if !selectedSet.contains(m), let f = model.function(m) {
                    let role = FunctionRules.endpoints([f]).isEmpty
                        ? "a bridge in the same group: it stays with the host (pcieport is fine)"
                        : "an endpoint in the same IOMMU group: assign it to the same VM, or detach it from the host and keep it unused (libvirt <address type='unassigned'/>)"
                    added.append((m, "\(m) is \(role)"))
                }
            }
        }
        unit.sort()
        let functions = unit.compactMap { model.function($0) }
        findings += FunctionRules.evaluate(functions, model: model)
        for (m, why) in added where !(model.function(m).map { FunctionRules.endpoints([$0]).isEmpty } ?? true) {
            findings.append(Finding("group-expanded", .warn, why, functions: [m]))
        }
        // Function 0: guests enumerate function 1–7 only when function 0 is there.
        let bySlot = Dictionary(grouping: selected, by: \.slot)
        for (slot, picks) in bySlot.sorted(by: { $0.key < $1.key }) {
            let nonVF = picks.filter { model.function($0)?.isVirtualFunction != true }
            if !nonVF.isEmpty, !nonVF.contains(where: { $0.function == 0 }) {
                findings.append(Finding("function0-missing", .warn,
                    "The selection includes \(nonVF.map(\.description).joined(separator: ", ")) but not function 0 of slot \(slot): an x86 guest will not find them unless it boots with pci=pcie_scan_all, or they are placed at function 0 of a guest slot (a pseries guest may find them).",
                    functions: nonVF, fix: "Assign function 0 of \(slot) too, or put each selected function in its own guest slot at function 0."))
            }
        }
        return CheckResult(selected: selected, unit: unit, added: added, findings: findings, verdict: UnitVerdict(findings))
    }
}
