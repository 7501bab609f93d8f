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

    static func acsNote(_ f: PCIFunction, _ policy: ACSPolicy) -> String {
        guard let type = f.config?.pciExpress?.portType, type.isDownstreamPort || FunctionRules.endpoints([f]).isEmpty else { return "" }
        switch policy.evaluate(f) {
        case .isolated: return f.config?.acs != nil ? "  ACS: isolates" : ""
        case let .notIsolated(_, missing):
            if f.config?.acs == nil { return type.isDownstreamPort ? "  ACS: none" : "" }
            return "  ACS: missing \(missing.names.joined(separator: " "))"
        case .unknown:
            return "  ACS: unknown"
        }
    }

    public static func text(_ model: HostModel) -> String {
        let (roots, below) = children(model)
        let policy = ACSPolicy()
        var out: [String] = []
        func label(_ f: PCIFunction) -> String {
            "\(f.address.shortDescription) \(ListText.identity(f)) [\(hex(f.vendorID, 4)):\(hex(f.deviceID, 4))]"
                + "  group=\(ListText.groupLabel(f, model)) driver=\(ListText.driverLabel(f))" + acsNote(f, policy)
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

    /// Graphviz: one coloured cluster per IOMMU group, edges from each bridge to what is below it.
    public static func dot(_ model: HostModel) -> String {
        let palette = ["#e6f2ff", "#e8f8e8", "#fff4e0", "#f5e6ff", "#ffe6e6", "#e6fffb", "#fffde6", "#f0f0f0"]
        let policy = ACSPolicy()
        func node(_ a: PCIAddress) -> String { "\"\(a)\"" }
        func escape(_ s: String) -> String { s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") }
        var out = ["digraph pci {", "  rankdir=LR;", "  node [shape=box, fontname=\"monospace\", fontsize=10];"]
        let byGroup = Dictionary(grouping: model.functions, by: \.iommuGroup)
        for (i, key) in byGroup.keys.sorted(by: { ($0 ?? -1) < ($1 ?? -1) }).enumerated() {
            let fs = byGroup[key] ?? []
            if let g = key {
                out.append("  subgraph \"cluster_group_\(g)\" {")
                out.append("    label=\"IOMMU group \(g)\"; style=filled; color=\"\(palette[i % palette.count])\";")
            } else {
                out.append("  subgraph \"cluster_nogroup\" {")
                out.append("    label=\"no IOMMU group\"; style=dashed;")
            }
            for f in fs {
                let text = "\(f.address.shortDescription)\\n\(escape(ListText.identity(f)))\\n\(f.driverBinding.isKnown ? (f.driver ?? "no driver") : "driver unknown")" + escape(acsNote(f, policy))
                out.append("    \(node(f.address)) [label=\"\(text)\"];")
            }
            out.append("  }")
        }
        for f in model.functions {
            if let parent = f.upstream.first { out.append("  \(node(parent)) -> \(node(f.address));") }
        }
        out.append("}")
        return out.joined(separator: "\n") + "\n"
    }
}
