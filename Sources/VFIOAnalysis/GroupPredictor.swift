import PCIConfigSpace
import PCIHost

/// Why a group holds more than one function.
public struct GroupCause: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        case acsMissing = "acs-missing"
        case multifunctionWithoutACS = "multifunction-without-acs"
        case pciBridgeAlias = "pci-bridge-alias"
        case dmaAliasQuirk = "dma-alias-quirk"
        case acsOverride = "acs-override"
        case unknown
    }

    public let kind: Kind
    /// The function where isolation fails (a bridge, the slot's function, the alias bridge).
    public let at: PCIAddress?
    public let missingACS: [String]
    public let explanation: String

    public init(kind: Kind, at: PCIAddress?, missingACS: [String], explanation: String) {
        self.kind = kind
        self.at = at
        self.missingACS = missingACS
        self.explanation = explanation
    }
}

public struct PredictedGroup: Hashable, Sendable {
    public var members: [PCIAddress]
    public var causes: [GroupCause]
}

/// The groups the kernel should make, computed from config space the way `pci_device_group` does.
public struct GroupPrediction: Sendable {
    public var groups: [PredictedGroup]
    /// Why the prediction cannot be trusted on this host (empty: it can).
    public var uncertainties: [String]
    /// nil when the kernel made no groups.
    public var matchesKernel: Bool?
    /// Kernel groups that differ from every predicted group.
    public var unexplainedKernelGroups: [[PCIAddress]]
    /// Kernel group id → index of the predicted group with exactly its members (over grouped functions).
    public var kernelMatches: [Int: Int]
    var groupIndex: [PCIAddress: Int]

    public func group(of address: PCIAddress) -> PredictedGroup? {
        groupIndex[address].map { groups[$0] }
    }

    /// The predicted group equal to kernel group `id`, if the prediction made exactly that group.
    public func match(forKernelGroup id: Int) -> PredictedGroup? {
        kernelMatches[id].map { groups[$0] }
    }
}

public enum GroupPredictor {
    /// Predicts the groups of a host whose config space has been decoded.
    public static func predict(_ model: HostModel, policy: ACSPolicy = ACSPolicy()) -> GroupPrediction {
        var uncertainties: [String] = []
        let params = model.environment.commandLineParameters
        if let override = params["pcie_acs_override"] {
            uncertainties.append("pcie_acs_override=\(override) is on the kernel command line: the kernel pretends ACS where there is none, so groups prove nothing")
        }
        if let pci = params["pci"], pci.split(separator: ",").contains("noacs") {
            uncertainties.append("pci=noacs is on the kernel command line: the kernel does not enable ACS")
        }
        let undecoded = model.functions.filter { $0.config == nil || $0.config?.capabilityCoverage == .unreadable }
        if !undecoded.isEmpty {
            uncertainties.append("capabilities of \(undecoded.count) function(s) could not be read (e.g. \(undecoded[0].address)); ACS and port types there are unknown")
        }
        let shortExtended = model.functions.filter { $0.config?.pciExpress != nil && $0.config?.extendedCoverage == .unreadable }
        if !shortExtended.isEmpty {
            uncertainties.append("extended config space of \(shortExtended.count) PCIe function(s) was not readable (e.g. \(shortExtended[0].address)); their ACS is unknown")
        }
        let allOnes = model.functions.filter { ($0.header?.idsReadAllOnes ?? false) && !$0.isVirtualFunction }
        if !allOnes.isEmpty {
            uncertainties.append("\(allOnes.count) function(s) read all ones (powered off?), e.g. \(allOnes[0].address)")
        }

        let order = scanOrder(model)
        let byAddress = Dictionary(uniqueKeysWithValues: model.functions.map { ($0.address, $0) })
        var groupOf: [PCIAddress: Int] = [:]
        var groups: [PredictedGroup] = []

        func join(_ f: PCIAddress, _ g: Int, _ cause: GroupCause) {
            groupOf[f] = g
            groups[g].members.append(f)
            if !groups[g].causes.contains(cause) { groups[g].causes.append(cause) }
        }

        for address in order {
            guard let f = byAddress[address] else { continue }
            // 1. DMA aliases: conventional bridges and PCIe-to-PCI bridges above take over the requester ID.
            var aliasGroup: (Int, PCIAddress)?
            for bridgeAddress in f.upstream {
                guard let bridge = byAddress[bridgeAddress] else { continue }
                let type = bridge.config?.pciExpress?.portType
                let aliases = type == nil || type == .pcieToPCIBridge || type == .pciToPCIeBridge
                if aliases, let g = groupOf[bridgeAddress] {
                    aliasGroup = (g, bridgeAddress)
                    break
                }
            }
            if let (g, bridge) = aliasGroup {
                join(address, g, GroupCause(kind: .pciBridgeAlias, at: bridge, missingACS: [],
                    explanation: "\(bridge) is a PCI bridge that issues DMA from the devices behind it under its own requester ID"))
                continue
            }
            // 2. The upstream walk: the first bridge whose path to the root is not ACS-isolated owns the group.
            var subject = f
            var joined = false
            for bridgeAddress in f.upstream {
                guard let bridge = byAddress[bridgeAddress] else { continue }
                if let failing = firstNonIsolated(onPathFrom: bridge, byAddress, policy) {
                    subject = bridge
                    if let g = groupOf[bridgeAddress] {
                        let verdict = policy.evaluate(failing)
                        let missing: [String]
                        if case let .notIsolated(_, m) = verdict { missing = m.names } else { missing = [] }
                        join(address, g, GroupCause(kind: .acsMissing, at: failing.address, missingACS: missing,
                            explanation: "\(failing.address) does not isolate what is below it: \(verdictText(verdict))"))
                        joined = true
                        break
                    }
                } else {
                    break
                }
            }
            if joined { continue }
            // 3. Other functions of a multifunction slot without ACS.
            if policy.isMultifunction(subject), case let .notIsolated(why, missing) = policy.evaluate(subject) {
                let mates = (model.slots[subject.address.slot] ?? []).filter {
                    $0.address != subject.address && !$0.isVirtualFunction && !policy.evaluate($0).isIsolated
                }
                if let mate = mates.first(where: { groupOf[$0.address] != nil }), let g = groupOf[mate.address] {
                    join(address, g, GroupCause(kind: .multifunctionWithoutACS, at: subject.address, missingACS: missing.names,
                        explanation: "slot \(subject.address.slot) is multifunction and \(subject.address) is not isolated from \(mate.address): \(why)"))
                    continue
                }
            }
            groupOf[address] = groups.count
            groups.append(PredictedGroup(members: [address], causes: []))
        }
        for i in groups.indices { groups[i].members.sort() }
        groups = groups.filter { !$0.members.isEmpty }

        var groupIndex: [PCIAddress: Int] = [:]
        for (i, g) in groups.enumerated() {
            for m in g.members { groupIndex[m] = i }
        }
        // Compare with the kernel: as sets of members, over the functions the kernel grouped. Each kernel
        // group can only equal the predicted group of its first member, so this is one pass.
        var matches: Bool?
        var unexplained: [[PCIAddress]] = []
        var kernelMatches: [Int: Int] = [:]
        if !model.groups.isEmpty {
            let grouped = Set(model.groups.flatMap(\.members))
            var matchedPredicted = Set<Int>()
            for kernel in model.groups where !kernel.members.isEmpty {
                if let i = groupIndex[kernel.members[0]],
                   groups[i].members.filter(grouped.contains) == kernel.members.sorted() {
                    kernelMatches[kernel.id] = i
                    matchedPredicted.insert(i)
                } else {
                    unexplained.append(kernel.members.sorted())
                }
            }
            // Every predicted group holding a grouped function must equal some kernel group.
            let strayPrediction = groups.indices.contains { i in
                !matchedPredicted.contains(i) && groups[i].members.contains(where: grouped.contains)
            }
            matches = unexplained.isEmpty && !strayPrediction
            unexplained.sort { $0[0] < $1[0] }
        }
        return GroupPrediction(groups: groups, uncertainties: uncertainties, matchesKernel: matches,
                               unexplainedKernelGroups: unexplained, kernelMatches: kernelMatches, groupIndex: groupIndex)
    }

    /// `pci_acs_path_enabled(bridge, NULL, REQ_ACS_FLAGS)`: the first function on the way to the root that is not isolated.
    static func firstNonIsolated(onPathFrom bridge: PCIFunction, _ byAddress: [PCIAddress: PCIFunction], _ policy: ACSPolicy) -> PCIFunction? {
        var current: PCIFunction? = bridge
        while let f = current {
            if !policy.evaluate(f).isIsolated { return f }
            current = f.upstream.first.flatMap { byAddress[$0] }
        }
        return nil
    }

    static func verdictText(_ v: ACSPolicy.Verdict) -> String {
        switch v {
        case let .isolated(why): why
        case let .notIsolated(why, _): why
        }
    }

    /// The order in which the kernel adds devices: each bus's functions by devfn, then each bridge's
    /// secondary bus depth first; VFs last, as they are created after boot.
    public static func scanOrder(_ model: HostModel) -> [PCIAddress] {
        var children: [PCIAddress: [PCIFunction]] = [:]
        var roots: [PCIFunction] = []
        var vfs: [PCIFunction] = []
        for f in model.functions {
            if f.isVirtualFunction { vfs.append(f); continue }
            if let parent = f.upstream.first { children[parent, default: []].append(f) } else { roots.append(f) }
        }
        var order: [PCIAddress] = []
        order.reserveCapacity(model.functions.count)
        func visit(_ bus: [PCIFunction]) {
            let sorted = bus.sorted { $0.address < $1.address }
            order.append(contentsOf: sorted.map(\.address))
            for f in sorted where children[f.address] != nil {
                visit(children[f.address] ?? [])
            }
        }
        visit(roots)
        // VFs in PF order, then VF index (their addresses ascend with the index).
        order.append(contentsOf: vfs.sorted { ($0.physicalFunction ?? $0.address, $0.address) < ($1.physicalFunction ?? $1.address, $1.address) }.map(\.address))
        return order
    }
}
