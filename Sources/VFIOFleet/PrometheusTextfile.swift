import Prometheus
import PCIConfigSpace
import PCIHost
import VFIOAnalysis

/// A node_exporter textfile-collector file (`*.prom`): the Prometheus text exposition format, written by
/// swift-prometheus (`PrometheusCollectorRegistry`), gauges only, no timestamps (the collector refuses them).
///
/// Per-function series carry node_exporter's own pcidevice labels (`collector/pcidevice_linux.go`: `segment` `%04x`,
/// `bus` `%02x`, `device` `%02x`, `function` `%x`), so `* on(segment,bus,device,function) group_left
/// node_pcidevice_info` joins names and IDs. States are state sets (one series per state, 1 for the current one),
/// so `unknown` is a value, never a missing series.
///
/// Families, in this order:
/// - `vfio_inspect_iommu_state{state}`, `vfio_inspect_interrupt_remapping_state{state}`: on/off/unknown;
/// - `vfio_inspect_units{verdict}`: units (IOMMU groups, or predicted ones) per verdict;
/// - `vfio_inspect_iommu_group_verdict{iommu_group,verdict}`: 1 per kernel group, its verdict as the label;
/// - `vfio_inspect_pci_function_verdict{segment,bus,device,function,iommu_group,verdict}`: 1 per function; `iommu_group`
///   is the number, `none` (in no group), or `unknown`;
/// - `vfio_inspect_sriov_capable_state{state}`, `vfio_inspect_sriov_physical_functions`, `vfio_inspect_sriov_virtual_functions`,
///   `vfio_inspect_sriov_counts_known` (0: the counts are lower bounds);
/// - with a baseline: `vfio_inspect_drift_baseline_readable`, `vfio_inspect_drift_changes{kind}` (every kind, 0 when
///   none), `vfio_inspect_drift_undetermined` (facts one side lacks), `vfio_inspect_drift_detected` (1 when something
///   that matters changed: the alert).
public enum PrometheusTextfile {
    /// The drift part of the file: `nil` for no baseline; `.unreadable` when it was asked for but could not be read.
    public enum Baseline: Sendable {
        case compared(Drift)
        case unreadable
    }

    public static func render(_ facts: FleetFacts, baseline: Baseline? = nil) -> String {
        var families: [String] = []
        func family(_ build: (PrometheusCollectorRegistry) -> Void) {
            let registry = PrometheusCollectorRegistry()
            build(registry)
            families.append(sortedSamples(registry.emitToString()))
        }
        /// A state set: one series per state, 1 for the current one.
        func stateSet(_ name: String, _ current: HostState, _ help: String) {
            family { r in
                for s in HostState.allCases { gauge(r, name, [("state", s.rawValue)], help).set(to: current == s ? 1 : 0) }
            }
        }
        stateSet("vfio_inspect_iommu_state", facts.iommu,
                 "Whether the IOMMU is on (1 for the current state; unknown when the input does not show it).")
        stateSet("vfio_inspect_interrupt_remapping_state", facts.interruptRemapping,
                 "Whether MSI interrupts are remapped (1 for the current state).")
        family { r in
            for v in UnitVerdict.allCases {
                gauge(r, "vfio_inspect_units", [("verdict", v.rawValue)],
                            "Passthrough units (IOMMU groups, or predicted ones) per verdict.")
                    .set(to: Double(facts.unitsByVerdict[v] ?? 0))
            }
        }
        family { r in
            for u in facts.units {
                guard let id = u.groupID else { continue }
                gauge(r, "vfio_inspect_iommu_group_verdict", [("iommu_group", String(id)), ("verdict", u.verdict.rawValue)],
                            "1 per kernel IOMMU group; the verdict label says whether it can be passed through.")
                    .set(to: 1)
            }
        }
        family { r in
            for f in facts.functions {
                let group = f.iommuGroup.map(String.init) ?? (f.groupKnown ? "none" : "unknown")
                gauge(r, "vfio_inspect_pci_function_verdict",
                            pcideviceLabels(f.address) + [("iommu_group", group), ("verdict", f.verdict.rawValue)],
                            "1 per PCI function; the verdict of its unit. Joins node_pcidevice_info on segment, bus, device, function.")
                    .set(to: 1)
            }
        }
        stateSet("vfio_inspect_sriov_capable_state", facts.sriovCapable,
                 "Whether some function has an SR-IOV capability (unknown: config space past 0x100 is missing for some endpoint).")
        family { r in
            gauge(r, "vfio_inspect_sriov_physical_functions", [], "Functions with an SR-IOV capability (a lower bound while vfio_inspect_sriov_capable_state is unknown).")
                .set(to: Double(facts.sriovPhysicalFunctions))
        }
        family { r in
            gauge(r, "vfio_inspect_sriov_virtual_functions", [], "SR-IOV virtual functions enabled (a lower bound while vfio_inspect_sriov_counts_known is 0).")
                .set(to: Double(facts.sriovVirtualFunctions))
        }
        family { r in
            gauge(r, "vfio_inspect_sriov_counts_known", [], "1 when the SR-IOV counts are exact; 0 when config space the input lacks could hold more.")
                .set(to: facts.sriovCountsKnown ? 1 : 0)
        }
        if let baseline {
            family { r in
                gauge(r, "vfio_inspect_drift_baseline_readable", [], "1 when the baseline given with --baseline was read.")
                    .set(to: baseline.drift == nil ? 0 : 1)
            }
            if let drift = baseline.drift {
                family { r in
                    for kind in DriftChange.Kind.allCases where kind != .notComparable {
                        gauge(r, "vfio_inspect_drift_changes", [("kind", kind.rawValue)],
                                    "Changes since the baseline, by kind (group-split, driver-changed, ...).")
                            .set(to: Double(drift.changes.filter { $0.kind == kind }.count))
                    }
                }
                family { r in
                    gauge(r, "vfio_inspect_drift_undetermined", [], "Facts that could not be compared with the baseline (one side lacks them).")
                        .set(to: Double(drift.notComparable.count))
                }
                family { r in
                    gauge(r, "vfio_inspect_drift_detected", [], "1 when something that matters for passthrough changed since the baseline.")
                        .set(to: drift.mattering.isEmpty ? 0 : 1)
                }
            }
        }
        return families.joined()
    }

    /// A gauge of `registry` (swift-prometheus takes the help text through a name descriptor).
    static func gauge(_ registry: PrometheusCollectorRegistry, _ name: String, _ labels: [(String, String)], _ help: String) -> Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels)
    }

    /// node_exporter's pcidevice location labels for `a`.
    static func pcideviceLabels(_ a: PCIAddress) -> [(String, String)] {
        [("segment", hex(a.domain, 4)), ("bus", hex(a.bus, 2)), ("device", hex(a.device, 2)), ("function", hex(a.function, 1))]
    }

    /// One family's text with its samples in a stable order (the registry keeps them in a dictionary).
    static func sortedSamples(_ text: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        let comments = lines.filter { $0.hasPrefix("#") }
        let samples = lines.filter { !$0.hasPrefix("#") }.sorted()
        return (comments + samples).map { $0 + "\n" }.joined()
    }
}

extension PrometheusTextfile.Baseline {
    var drift: Drift? {
        if case let .compared(d) = self { d } else { nil }
    }
}
