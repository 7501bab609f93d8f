import Foundation
import VFIOAnalysis

/// A Node Feature Discovery local feature file (`/etc/kubernetes/node-feature-discovery/features.d/`), as NFD's
/// `local` source reads it (kubernetes-sigs/node-feature-discovery `source/local/local.go`):
///
/// - one `name=value` per line; `# +expiry-time=<RFC 3339>` applies to every line after it;
/// - a file over `MaxFeatureFileSize` (65,536 bytes) is skipped whole, so the file is kept under it;
/// - names are written with their prefix, `vfio.feature.node.kubernetes.io/`, a namespace nfd-master allows by
///   default (`*.feature.node.kubernetes.io`);
/// - names and values follow Kubernetes' label rules (k8s.io/apimachinery `IsQualifiedName`, `IsValidLabelValue`):
///   name part ≤ 63 characters of `[A-Za-z0-9_.-]` starting and ending alphanumeric, values ≤ 63 likewise. Every
///   value written is a count or `true`/`false`/`unknown`, so none can exceed 63; a label that would break a rule is
///   left out and counted in `skipped`.
public struct NFDFeatureFile: Sendable {
    /// NFD's `MaxFeatureFileSize`.
    public static let maxSize = 65_536
    public static let prefix = "vfio.feature.node.kubernetes.io/"

    public let labels: [(name: String, value: String)]
    /// Labels left out: a name or value that breaks the label rules, or past the size limit.
    public let skipped: [String]
    public let text: String

    /// - Parameters:
    ///   - facts: the host summary.
    ///   - expiry: when NFD should drop the labels (the next run should have replaced them by then).
    public init(_ facts: FleetFacts, expiry: Date) {
        self.init(labels: Self.labels(facts), expiry: expiry)
    }

    /// The labels `facts` gives, unprefixed and in file order.
    public static func labels(_ facts: FleetFacts) -> [(name: String, value: String)] {
        var candidates: [(name: String, value: String)] = [
            ("iommu", Self.boolean(facts.iommu)),
            ("interrupt-remapping", Self.boolean(facts.interruptRemapping)),
        ]
        for v in UnitVerdict.allCases {
            candidates.append(("groups-\(v.rawValue)", String(facts.unitsByVerdict[v] ?? 0)))
        }
        candidates.append(("sriov-capable", Self.boolean(facts.sriovCapable)))
        // Where a PF's capability could hide in config space the input lacks, or a function reads ffff with nothing to
        // place it, the counts are unknown (not the lower bound they are).
        candidates.append(("sriov-physical-functions", facts.sriovCountsKnown ? String(facts.sriovPhysicalFunctions) : "unknown"))
        candidates.append(("sriov-virtual-functions", facts.sriovCountsKnown ? String(facts.sriovVirtualFunctions) : "unknown"))
        for id in facts.assignableGroups.keys.sorted() {
            candidates.append(("assignable-\(id.vendorHex)-\(id.deviceHex)", String(facts.assignableGroups[id] ?? 0)))
        }
        candidates.append(("iommufd", Self.boolean(facts.iommufd)))
        // NVIDIA vGPU VFs: how many have no type yet, how many have each type, and how many are unknown.
        let vgpu = facts.functions.compactMap(\.vgpuType)
        if !vgpu.isEmpty {
            candidates.append(("vgpu-vfs-unset", String(vgpu.filter { $0.value.map { $0 == nil } ?? false }.count)))
            candidates.append(("vgpu-vfs-unknown", String(vgpu.filter { !$0.isKnown }.count)))
            var byType: [Int: Int] = [:]
            for case let .known(id?, _) in vgpu { byType[id, default: 0] += 1 }
            for id in byType.keys.sorted() { candidates.append(("vgpu-type-\(id)", String(byType[id] ?? 0))) }
        }
        return candidates
    }

    /// The file for `candidates` (unprefixed names): those that break the label rules, or would take the file past
    /// NFD's limit, are left out and named in `skipped`.
    public init(labels candidates: [(name: String, value: String)], expiry: Date) {

        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        var text = "# vfio-inspect: VFIO passthrough readiness (generated; replaced on each run)\n"
        text += "# +expiry-time=\(formatter.string(from: expiry))\n"
        var kept: [(name: String, value: String)] = [], skipped: [String] = []
        for (name, value) in candidates {
            let full = Self.prefix + name
            guard Self.isValidName(name), Self.isValidValue(value) else { skipped.append(full); continue }
            let line = "\(full)=\(value)\n"
            // Room for the closing comment that says labels were left out.
            guard text.utf8.count + line.utf8.count + 200 <= Self.maxSize else { skipped.append(full); continue }
            text += line
            kept.append((full, value))
        }
        if !skipped.isEmpty {
            text += "# \(skipped.count) label(s) left out (label rules or NFD's 64 KiB file limit)\n"
        }
        labels = kept
        self.skipped = skipped
        self.text = text
    }

    static func boolean(_ s: HostState) -> String {
        switch s {
        case .on: "true"
        case .off: "false"
        case .unknown: "unknown"
        }
    }

    private static func isLabelChar(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2d || c == 0x5f || c == 0x2e
    }

    private static func isAlnum(_ c: UInt8) -> Bool { isLabelChar(c) && c != 0x2d && c != 0x5f && c != 0x2e }

    /// The name part of a qualified name (apimachinery `qualifiedNameFmt`, `qualifiedNameMaxLength` 63).
    static func isValidName(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard let first = b.first, let last = b.last, b.count <= 63 else { return false }
        return isAlnum(first) && isAlnum(last) && b.allSatisfy(isLabelChar)
    }

    /// A label value (apimachinery `IsValidLabelValue`: empty, or ≤ 63 like a name part).
    static func isValidValue(_ s: String) -> Bool { s.isEmpty || isValidName(s) }
}
