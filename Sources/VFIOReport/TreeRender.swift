import PCIConfigSpace
import PCIHost
import VFIOAnalysis

/// The bus topology as a tree (like `lspci -tv`), each port with its ACS state, each function with its group and driver.
public enum TreeRender {
    static func children(_ model: HostModel) -> (roots: [PCIFunction], below: [PCIAddress: [PCIFunction]]) {
        var below: [PCIAddress: [PCIFunction]] = [:]
        var roots: [PCIFunction] = []
        for f in model.functions {
            if let parent = f.upstream.first { below[parent, default: []].append(f) } else { roots.append(f) }
        }
        return (roots, below)
    }

    static func acsNote(_ f: PCIFunction, _ policy: ACSPolicy, style: Style = Style(color: false)) -> String {
        guard let verdict = policy.portIsolation(f) else { return "" }
        if case .unknown = verdict { return "  ACS: " + style.paint("unknown", "35") }
        guard let type = f.config?.pciExpress?.portType else { return "" }
        switch verdict {
        case .isolated: return f.config?.acs != nil ? "  ACS: " + style.paint("isolates", "32") : ""
        case let .notIsolated(_, missing):
            if f.config?.acs == nil { return type.isDownstreamPort ? "  ACS: " + style.paint("none", "33") : "" }
            return "  ACS: " + style.paint("missing \(missing.names.joined(separator: " "))", "33")
        case .unknown:
            return "  ACS: " + style.paint("unknown", "35")
        }
    }

    public static func text(_ model: HostModel, style: Style = Style(color: false)) -> String {
        let (roots, below) = children(model)
        let policy = ACSPolicy(model)
        var out: [String] = []
        func label(_ f: PCIFunction) -> String {
            "\(f.address.shortDescription) \(ListText.identity(f)) [\(hex(f.vendorID, 4)):\(hex(f.deviceID, 4))]"
                + "  group=\(ListText.groupLabel(f, model)) driver=\(ListText.driverLabel(f))" + acsNote(f, policy, style: style)
        }
        func walk(_ fs: [PCIFunction], _ prefix: String) {
            let sorted = fs.sorted { $0.address < $1.address }
            for (i, f) in sorted.enumerated() {
                let last = i == sorted.count - 1
                out.append(prefix + (last ? "\\-" : "+-") + label(f))
                if let kids = below[f.address] { walk(kids, prefix + (last ? "  " : "| ")) }
            }
        }
        let byDomain = Dictionary(grouping: roots, by: { ($0.address.domain, $0.address.bus) == ($0.address.domain, $0.address.bus) ? "\(hex($0.address.domain, 4)):\(hex($0.address.bus, 2))" : "" })
        for key in byDomain.keys.sorted() {
            out.append("-[\(key)]")
            walk(byDomain[key] ?? [], " ")
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// Graphviz: one cluster per IOMMU group (or predicted group), filled with the colour of its unit's verdict,
    /// edges from each bridge to what is below it, and a legend. A PF's VFs past `vfLimit` collapse into one
    /// node that says how many and which groups they are in. `verdicts` maps each function to its unit's verdict
    /// (from `Reporter.report`); the renderer only draws it.
    /// `notCandidates`: functions of units that are blocked only because they are the platform or bridges
    /// (drawn grey, "not a candidate", so a healthy host is not painted red).
    /// `reasons`: the code of the finding that decides each function's unit, shown after the verdict.
    public static func dot(_ model: HostModel, verdicts: [PCIAddress: UnitVerdict] = [:], reasons: [PCIAddress: String] = [:],
                           notCandidates: Set<PCIAddress> = [], vfLimit: Int = 4) -> String {
        let policy = ACSPolicy(model)
        func node(_ a: PCIAddress) -> String { "\"\(a)\"" }
        func escape(_ s: String) -> String { s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") }
        func fill(_ v: UnitVerdict?) -> String {
            switch v {
            case .ready?: "#d4f4d4"
            case .needsPreparation?: "#fff1c2"
            case .blocked?: "#f8d4d4"
            case .undetermined?: "#e8dcf4"
            case nil: "#f0f0f0"
            }
        }
        var out = ["digraph pci {", "  rankdir=LR; newrank=true; nodesep=0.15; ranksep=0.5;",
                   "  node [shape=box, style=filled, fillcolor=white, fontname=\"monospace\", fontsize=10];",
                   "  edge [color=\"#555555\"];"]
        // VFs past the limit, per PF, become one summary node.
        var hidden: Set<PCIAddress> = []
        var summaries: [(pf: PCIAddress, vfs: [PCIFunction])] = []
        for f in model.functions {
            guard case let .physicalFunction(state) = f.sriov else { continue }
            let vfs = state.virtualFunctions.sorted().compactMap { model.function($0) }
            guard vfs.count > vfLimit else { continue }
            // Only VFs that say the same as most of the rest collapse; a VF with another verdict stays drawn.
            let rest = Array(vfs.dropFirst(vfLimit - 1))
            let counts = Dictionary(grouping: rest) { verdicts[$0.address] }.mapValues(\.count)
            let common = counts.max { ($0.value, $0.key?.rank ?? -1) < ($1.value, $1.key?.rank ?? -1) }?.key
            let alike = rest.filter { verdicts[$0.address] == common }
            guard alike.count > 1 else { continue }
            hidden.formUnion(alike.map(\.address))
            summaries.append((f.address, alike))
        }
        let shown = model.functions.filter { !hidden.contains($0.address) }
        // Clusters: a known group, "no IOMMU group" only where that is known, "group unknown" otherwise.
        let byGroup = Dictionary(grouping: shown) { f -> Int? in model.groupKnown(f) ? (f.iommuGroup ?? -1) : nil }
        for key in byGroup.keys.sorted(by: { ($0 ?? -2) < ($1 ?? -2) }) {
            let fs = byGroup[key] ?? []
            let verdict = fs.lazy.compactMap { verdicts[$0.address] }.first
            let platform = fs.allSatisfy { notCandidates.contains($0.address) }
            if let g = key, g >= 0 {
                out.append("  subgraph \"cluster_group_\(g)\" {")
                let reason = fs.lazy.compactMap { reasons[$0.address] }.first.map { " (\($0))" } ?? ""
                let state = platform ? ": not a candidate" : verdict.map { ": \($0.rawValue)\(reason)" } ?? ""
                out.append("    label=\"IOMMU group \(g)\(state)\"; style=filled; fillcolor=\"\(platform ? "#eeeeee" : fill(verdict))\"; color=\"#888888\";")
            } else if key == -1 {
                out.append("  subgraph \"cluster_nogroup\" {")
                out.append("    label=\"in no IOMMU group\"; style=dashed;")
            } else {
                out.append("  subgraph \"cluster_unknowngroup\" {")
                out.append("    label=\"IOMMU group not known (see report)\"; style=dashed;")
            }
            for f in fs {
                let text = "\(f.address.shortDescription)\\n\(escape(ListText.identity(f)))\\n\(f.driverBinding.isKnown ? (f.driver ?? "no driver") : "driver unknown")" + escape(acsNote(f, policy))
                out.append("    \(node(f.address)) [label=\"\(text)\"];")
            }
            out.append("  }")
        }
        for (pf, vfs) in summaries {
            let groups = vfs.compactMap(\.iommuGroup)
            let groupText = groups.isEmpty ? "" : "\\n(one group each, \(groups.min() ?? 0)–\(groups.max() ?? 0))"
            let ids = "\"vfs_of_\(pf)\""
            let state = verdicts[vfs[0].address].map { ", each \($0.rawValue)" } ?? ""
            out.append("  \(ids) [label=\"… \(vfs.count) more VFs of \(pf.shortDescription)\(state)\\n\(vfs[0].address.shortDescription) – \(vfs[vfs.count - 1].address.shortDescription)\(groupText)\", style=\"filled,dashed\", fillcolor=\"\(fill(verdicts[vfs[0].address]))\"];")
            out.append("  \(node(pf)) -> \(ids) [style=dashed, label=\"SR-IOV\", fontsize=8];")
        }
        for f in shown {
            // A VF hangs from its PF (dashed), not from the bridge: that is the dependency a reader needs.
            if case let .virtualFunction(pf) = f.sriov, model.function(pf) != nil {
                out.append("  \(node(pf)) -> \(node(f.address)) [style=dashed, label=\"VF\", fontsize=8];")
            } else if let parent = f.upstream.first {
                out.append("  \(node(parent)) -> \(node(f.address));")
            }
        }
        if !verdicts.isEmpty {
            // One table node, so the legend takes one column whatever the layout does.
            let rows = UnitVerdict.allCases.map { "<TR><TD BGCOLOR=\"\(fill($0))\">\($0.rawValue)</TD></TR>" }.joined()
                + "<TR><TD BGCOLOR=\"#eeeeee\">not a candidate (platform, bridge)</TD></TR>"
            out.append("  legend [shape=plaintext, style=\"\", label=<<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\" CELLPADDING=\"4\"><TR><TD><B>group verdict</B></TD></TR>\(rows)</TABLE>>];")
        }
        out.append("}")
        return out.joined(separator: "\n") + "\n"
    }
}
