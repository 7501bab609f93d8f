import PCIConfigSpace
import PCIHost
import VFIOAnalysis

public struct DescribedCause: Encodable, Sendable {
    public let kind: String
    @Nullable public var at: String?
    public let missingACS: [String]
    public let explanation: String

    init(_ c: GroupCause) {
        kind = c.kind.rawValue
        at = c.at?.description
        missingACS = c.missingACS
        explanation = c.explanation
    }
}

public struct DescribedKernelGroup: Encodable, Sendable {
    public let id: Int
    public let members: [String]
    @Nullable public var type: String?
    /// Why the group holds several functions (empty for a single function).
    public let why: [DescribedCause]
    /// Whether exactly this set of functions was predicted from config space.
    public let predicted: Bool
}

public struct DescribedPredictedGroup: Encodable, Sendable {
    public let members: [String]
    public let why: [DescribedCause]
    /// False when the group rests on facts the input does not hold (`unknown`); `members` is then the
    /// worst case and `ifIsolated` what the members form when every unknown fact isolates.
    public let certain: Bool
    public let unknown: [DescribedUnknown]
    public let ifIsolated: [[String]]

    public init(_ g: PredictedGroup) {
        members = g.members.map(\.description)
        why = g.causes.map(DescribedCause.init)
        certain = g.isCertain
        unknown = g.unknowns.map(DescribedUnknown.init)
        ifIsolated = g.ifIsolated.map { $0.map(\.description) }
    }
}

/// Which kernel's grouping rules the prediction replays.
public struct DescribedGroupRules: Encodable, Sendable {
    @Nullable public var kernelRelease: String?
    /// `mainline`, `pch-acs-quirk-lost`, `pch-acs-quirk-maybe-lost` (`KernelRuleSet.name`).
    public let ruleSet: String
    public let explanation: String
    /// `pcie_acs_override=` as replayed; null when the command line has none.
    @Nullable public var acsOverride: String?

    public init(_ prediction: GroupPrediction) {
        kernelRelease = prediction.rules.release
        ruleSet = prediction.rules.name
        explanation = prediction.rules.explanation
        acsOverride = prediction.acsOverride?.text
    }
}

/// A fact the input does not hold: why, and what would supply it.
public struct DescribedUnknown: Encodable, Sendable {
    public let reason: String
    public let remedy: String

    public init(_ u: Unknown) {
        reason = u.reason
        remedy = u.remedy
    }
}

/// Kernel groups with their causes, and the prediction they are checked against.
public struct GroupAnalysis: Sendable {
    /// A function the kernel's groups do not hold, and why (the IOMMU does not cover it, or its group is unknown).
    public struct Ungrouped: Encodable, Sendable {
        public let address: String
        /// False when the input does not say which group it is in (a dump without its group line).
        public let groupKnown: Bool
        public let reason: String
    }

    public private(set) var ungrouped: [Ungrouped]
    public private(set) var groups: [DescribedKernelGroup]
    public private(set) var predictedGroups: [DescribedPredictedGroup]
    public let groupPredictionMatches: Bool?
    public let predictionUncertainties: [String]
    public let groupRules: DescribedGroupRules

    public init(_ model: HostModel, _ prediction: GroupPrediction) {
        groupRules = DescribedGroupRules(prediction)
        let grouped = Set(model.groups.flatMap(\.members))
        ungrouped = model.environment.groupSource.isKnown ? model.functions.filter { !grouped.contains($0.address) }.map { f in
            if let u = model.environment.groupMembershipIncomplete {
                return Ungrouped(address: f.address.description, groupKnown: false, reason: "the input has no group line for it: \(u.reason)")
            }
            return Ungrouped(address: f.address.description, groupKnown: true, reason: "no IOMMU group holds it: the IOMMU does not cover it, so VFIO cannot assign it")
        } : []
        let acsOverride = model.environment.commandLineParameters["pcie_acs_override"]
        groups = model.groups.map { g in
            let match = prediction.match(forKernelGroup: g.id)
            let why = describedWhy(causes: match?.causes ?? [], memberCount: g.members.count, predicted: match != nil, acsOverride: acsOverride,
                                   undecided: !prediction.unexplainedKernelGroups.contains(g.members.sorted()))
            return DescribedKernelGroup(id: g.id, members: g.members.map(\.description), type: g.type, why: why, predicted: match != nil)
        }
        predictedGroups = prediction.groups.map(DescribedPredictedGroup.init)
        groupPredictionMatches = prediction.matchesKernel
        predictionUncertainties = prediction.uncertainties
    }
}

extension GroupAnalysis {
    /// Only the kernel groups whose id is in `ids` and the predicted groups at `predicted` (indices into the
    /// prediction); whether the prediction matches stays the whole host's answer.
    public func restricted(toGroups ids: Set<Int>, predicted: Set<Int>, ungrouped kept: Set<String>) -> GroupAnalysis {
        var copy = self
        copy.ungrouped = ungrouped.filter { kept.contains($0.address) }
        copy.groups = groups.filter { ids.contains($0.id) }
        copy.predictedGroups = predictedGroups.enumerated().filter { predicted.contains($0.offset) }.map(\.element)
        return copy
    }
}

/// `groups --json`.
public struct DescribedGroupsListing: Encodable, Sendable {
    public let schemaVersion: Int
    public let source: DescribedSource
    /// Whether the kernel made IOMMU groups; null when the input cannot say (a dump without group lines).
    @Nullable public var iommuEnabled: Bool?
    public let groups: [DescribedKernelGroup]
    /// Functions in no kernel group, with why.
    public let ungrouped: [GroupAnalysis.Ungrouped]
    public let predictedGroups: [DescribedPredictedGroup]
    @Nullable public var groupPredictionMatches: Bool?
    public let predictionUncertainties: [String]
    public let groupRules: DescribedGroupRules

    public init(_ model: HostModel, _ analysis: GroupAnalysis) {
        groupRules = analysis.groupRules
        schemaVersion = JSONSchemaVersion.current
        source = DescribedSource(model.source)
        switch model.environment.groupSource {
        case .groupDirectory, .deviceLinks, .dumpLines: iommuEnabled = true
        case .noneMade: iommuEnabled = false
        case .none: iommuEnabled = nil
        }
        groups = analysis.groups
        ungrouped = analysis.ungrouped
        predictedGroups = analysis.predictedGroups
        groupPredictionMatches = analysis.groupPredictionMatches
        predictionUncertainties = analysis.predictionUncertainties
    }
}

public enum GroupsText {
    /// `groups` as text: the kernel's groups with why each is shared (or, without them, the predicted groups with
    /// what each rests on), then whether the prediction matches: yes, no, or not decided.
    public static func render(_ model: HostModel, _ analysis: GroupAnalysis) -> String {
        var out: [String] = []
        func member(_ address: String) -> String {
            guard let a = PCIAddress(sysfsName: address), let f = model.function(a) else { return "  " + address }
            let flags = ListText.flags(f, model: model)
            return "  \(address)  \(f.className ?? "Class \(hex(f.classCode.deviceClass, 4))"): \(ListText.identity(f)) [\(hex(f.vendorID, 4)):\(hex(f.deviceID, 4))]  driver=\(ListText.driverLabel(f))"
                + (flags.isEmpty ? "" : "  " + flags.joined(separator: ", "))
        }
        if !model.environment.groupSource.isKnown {
            switch model.environment.groupSource {
            case let .noneMade(evidence):
                out.append("No IOMMU groups: the kernel made none (\(evidence.joined(separator: "; "))). Enable VT-d/AMD-Vi in the firmware; intel_iommu=on on Intel.")
                out.append("Groups the kernel would make once the IOMMU is on (it then enables the ACS controls each port implements, before pci=config_acs/disable_acs_redir):")
            case let .none(u):
                out.append("The kernel's IOMMU groups are not in the input: \(u.reason) (\(u.remedy)).")
                out.append("Groups predicted from config space:")
            default:
                break
            }
            for (i, g) in analysis.predictedGroups.enumerated() where g.members.count > 1 || !g.certain {
                out.append("predicted group \(i) (\(g.members.count) function\(g.members.count == 1 ? "" : "s"))\(g.certain ? "" : "  [uncertain]")")
                out.append(contentsOf: g.members.map(member))
                for c in g.why { out.append("  why: \(c.kind)\(c.at.map { " at \($0)" } ?? ""): \(c.explanation)") }
                if !g.certain {
                    for u in g.unknown { out.append("  unknown: \(u.reason) (\(u.remedy))") }
                    out.append("  if every unknown fact isolates: " + g.ifIsolated.map { "{\($0.joined(separator: ", "))}" }.joined(separator: " "))
                }
            }
        } else {
            for g in analysis.groups {
                let shared = g.members.count > 1 ? "\(g.members.count) functions" : "1 function"
                let mark = g.predicted ? "" : analysis.groupPredictionMatches == false ? "  [differs from the prediction]" : "  [prediction uncertain]"
                out.append("IOMMU group \(g.id) (\(shared)\(g.type.map { ", \($0)" } ?? ""))\(mark)")
                out.append(contentsOf: g.members.map(member))
                for c in g.why { out.append("  why: \(c.kind)\(c.at.map { " at \($0)" } ?? ""): \(c.explanation)") }
            }
            for u in analysis.ungrouped {
                out.append("\(u.groupKnown ? "In no IOMMU group" : "IOMMU group unknown"): \(u.address)")
                out.append(member(u.address))
                out.append("  why: \(u.reason)")
            }
            switch analysis.groupPredictionMatches {
            case true?: out.append("Prediction from config space: every group as the kernel made it.")
            case false?: out.append("Prediction from config space DIFFERS from the kernel's groups (see groups marked above).")
            case nil: out.append("Prediction from config space: not decided (it rests on facts the input does not hold, or the kernel's groups are incomplete).")
            }
        }
        out.append("Kernel rules replayed: \(analysis.groupRules.explanation)" + (analysis.groupRules.acsOverride.map { "; with pcie_acs_override=\($0) as the out-of-tree patch defines it" } ?? ""))
        for u in analysis.predictionUncertainties { out.append("note: prediction uncertain: \(u)") }
        return out.joined(separator: "\n") + "\n"
    }
}

/// A kernel group's causes as published: the predicted ones, `unknown` where config space predicts
/// otherwise, and `acs-override` when the kernel was told to pretend.
func describedWhy(causes: [GroupCause], memberCount: Int, predicted: Bool, acsOverride: String?, undecided: Bool = false) -> [DescribedCause] {
    var why = causes.map(DescribedCause.init)
    if memberCount > 1 && !predicted {
        why.append(DescribedCause(GroupCause(kind: undecided ? .factUnknown : .unknown, at: nil, missingACS: [],
            explanation: undecided
                ? "config space cannot decide this group: it lies between the best and worst outcome of facts the input does not hold (see predictedGroups)"
                : "config space predicts a different grouping for these functions: a kernel quirk this tool does not model, or an override")))
    }
    if let acsOverride {
        why.append(DescribedCause(GroupCause(kind: .acsOverride, at: nil, missingACS: [],
            explanation: "pcie_acs_override=\(acsOverride): the kernel was told to assume isolation that the hardware may not provide")))
    }
    return why
}
