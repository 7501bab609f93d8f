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
}

/// Kernel groups with their causes, and the prediction they are checked against.
public struct GroupAnalysis: Sendable {
    public let groups: [DescribedKernelGroup]
    public let predictedGroups: [DescribedPredictedGroup]
    public let groupPredictionMatches: Bool?
    public let predictionUncertainties: [String]

    public init(_ model: HostModel, _ prediction: GroupPrediction) {
        let acsOverride = model.environment.commandLineParameters["pcie_acs_override"]
        groups = model.groups.map { g in
            let match = prediction.match(forKernelGroup: g.id)
            let why = describedWhy(causes: match?.causes ?? [], memberCount: g.members.count, predicted: match != nil, acsOverride: acsOverride)
            return DescribedKernelGroup(id: g.id, members: g.members.map(\.description), type: g.type, why: why, predicted: match != nil)
        }
        predictedGroups = prediction.groups.map { DescribedPredictedGroup(members: $0.members.map(\.description), why: $0.causes.map(DescribedCause.init)) }
        groupPredictionMatches = prediction.matchesKernel
        predictionUncertainties = prediction.uncertainties
    }
}

/// `groups --json`.
public struct DescribedGroupsListing: Encodable, Sendable {
    public let schemaVersion: Int
    public let source: DescribedSource
    public let iommuEnabled: Bool
    public let groups: [DescribedKernelGroup]
    public let predictedGroups: [DescribedPredictedGroup]
    @Nullable public var groupPredictionMatches: Bool?
    public let predictionUncertainties: [String]

    public init(_ model: HostModel, _ analysis: GroupAnalysis) {
        schemaVersion = JSONSchemaVersion.current
        source = DescribedSource(model.source)
        iommuEnabled = !model.groups.isEmpty
        groups = analysis.groups
        predictedGroups = analysis.predictedGroups
        groupPredictionMatches = analysis.groupPredictionMatches
        predictionUncertainties = analysis.predictionUncertainties
    }
}

public enum GroupsText {
    public static func render(_ model: HostModel, _ analysis: GroupAnalysis) -> String {
        var out: [String] = []
        func member(_ address: String) -> String {
            guard let a = PCIAddress(sysfsName: address), let f = model.function(a) else { return "  " + address }
            let flags = ListText.flags(f, model: model)
            return "  \(address)  \(f.className ?? "Class \(hex(f.classCode.deviceClass, 4))"): \(ListText.identity(f)) [\(hex(f.vendorID, 4)):\(hex(f.deviceID, 4))]  driver=\(f.driver ?? "-")"
                + (flags.isEmpty ? "" : "  " + flags.joined(separator: ", "))
        }
        if model.groups.isEmpty {
            out.append("No IOMMU groups: the IOMMU is off or absent (enable VT-d/AMD-Vi in the firmware; intel_iommu=on on Intel).")
            out.append("Groups the kernel would make with the ACS state it has now (ACS is enabled only with an IOMMU, so expect finer groups once it is on):")
            for (i, g) in analysis.predictedGroups.enumerated() where g.members.count > 1 {
                out.append("predicted group \(i) (\(g.members.count) functions)")
                out.append(contentsOf: g.members.map(member))
                for c in g.why { out.append("  why: \(c.kind)\(c.at.map { " at \($0)" } ?? ""): \(c.explanation)") }
            }
        } else {
            for g in analysis.groups {
                let shared = g.members.count > 1 ? "\(g.members.count) functions" : "1 function"
                out.append("IOMMU group \(g.id) (\(shared)\(g.type.map { ", \($0)" } ?? ""))\(g.predicted ? "" : "  [differs from the prediction]")")
                out.append(contentsOf: g.members.map(member))
                for c in g.why { out.append("  why: \(c.kind)\(c.at.map { " at \($0)" } ?? ""): \(c.explanation)") }
            }
            switch analysis.groupPredictionMatches {
            case true?: out.append("Prediction from config space: all \(analysis.groups.count) groups as the kernel made them.")
            case false?: out.append("Prediction from config space DIFFERS from the kernel's groups (see groups marked above).")
            case nil: break
            }
        }
        for u in analysis.predictionUncertainties { out.append("note: prediction uncertain: \(u)") }
        return out.joined(separator: "\n") + "\n"
    }
}

/// A kernel group's causes as published: the predicted ones, `unknown` where config space predicts
/// otherwise, and `acs-override` when the kernel was told to pretend.
func describedWhy(causes: [GroupCause], memberCount: Int, predicted: Bool, acsOverride: String?) -> [DescribedCause] {
    var why = causes.map(DescribedCause.init)
    if memberCount > 1 && !predicted {
        why.append(DescribedCause(GroupCause(kind: .unknown, at: nil, missingACS: [],
            explanation: "config space predicts a different grouping for these functions: a kernel quirk this tool does not model, or an override")))
    }
    if let acsOverride {
        why.append(DescribedCause(GroupCause(kind: .acsOverride, at: nil, missingACS: [],
            explanation: "pcie_acs_override=\(acsOverride): the kernel was told to assume isolation that the hardware may not provide")))
    }
    return why
}
