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
        /// The prediction joins the functions because a fact it needs is missing (worst case): see `explanation`.
        case factUnknown = "fact-unknown"
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

/// One predicted group. The prediction assumes the worst of every unknown fact (not isolated, aliasing),
/// so `members` is what must go together at most; `ifIsolated` is what the members form when every
/// unknown fact turns out isolating. A group is certain when both agree and no parent is missing.
public struct PredictedGroup: Hashable, Sendable {
    public var members: [PCIAddress]
    public var causes: [GroupCause]
    /// The facts this group rests on that the input does not hold (empty: certain).
    public var unknowns: [Unknown] = []
    /// When uncertain: the groups its members form if every unknown fact is isolating.
    public var ifIsolated: [[PCIAddress]] = []

    public var isCertain: Bool { unknowns.isEmpty }

    public init(members: [PCIAddress], causes: [GroupCause], unknowns: [Unknown] = [], ifIsolated: [[PCIAddress]] = []) {
        self.members = members
        self.causes = causes
        self.unknowns = unknowns
        self.ifIsolated = ifIsolated
    }
}

/// The groups the kernel should make, computed from config space the way `pci_device_group` does.
public struct GroupPrediction: Sendable {
    public var groups: [PredictedGroup]
    /// Why the prediction cannot be trusted on this host (empty: it can).
    public var uncertainties: [String]
    /// `true`: every kernel group equals a certain prediction; `false`: some kernel group equals no possible
    /// prediction; `nil`: the kernel's groups are not known or not consistent, or agree only under an
    /// assumption about an unknown fact.
    public var matchesKernel: Bool?
    /// Kernel groups that differ from every predicted group.
    public var unexplainedKernelGroups: [[PCIAddress]]
    /// Kernel group id → index of the predicted group with exactly its members (over grouped functions).
    public var kernelMatches: [Int: Int]
    var groupIndex: [PCIAddress: Int]
    /// The kernel rules replayed (from the kernel release).
    public var rules: KernelRuleSet = .mainline(release: nil)
    /// `pcie_acs_override` as replayed, when the command line has it.
    public var acsOverride: ACSOverride?

    public func group(of address: PCIAddress) -> PredictedGroup? {
        groupIndex[address].map { groups[$0] }
    }

    /// The predicted group equal to kernel group `id`, if the prediction made exactly that group.
    public func match(forKernelGroup id: Int) -> PredictedGroup? {
        kernelMatches[id].map { groups[$0] }
    }
}

public enum GroupPredictor {
    /// What an unknown isolation fact is taken to be in one pass of the prediction.
    enum Assumption {
        /// The worst case: not isolated, and a bridge of unknown type aliases.
        case notIsolated
        /// The best case: isolated, and no alias.
        case isolated
    }

    /// Predicts the groups of a host whose config space has been decoded: `pci_device_group`
    /// (drivers/iommu/iommu.c) replayed twice, once assuming the worst and once the best of every
    /// unknown fact, so that a group resting on an unknown says so, with both outcomes.
    public static func predict(_ model: HostModel, policy given: ACSPolicy? = nil) -> GroupPrediction {
        let policy = given ?? ACSPolicy(model)
        var uncertainties = hostUncertainties(model)
        if case let .pchQuirkMaybeLost(_, why) = policy.context.rules { uncertainties.append(why) }
        let order = scanOrder(model)
        let worst = assign(order, model, policy, .notIsolated)
        let best = assign(order, model, policy, .isolated)

        var groups = worst.groups
        for i in groups.indices {
            let members = groups[i].members
            let alternatives = Set(members.compactMap { best.groupOf[$0] }).sorted().map { best.groups[$0].members }
            var unknowns: [Unknown] = []
            func add(_ u: Unknown) { if !unknowns.contains(u) { unknowns.append(u) } }
            // Facts the passes read matter only when the two outcomes differ for this group.
            if alternatives != [members] {
                for m in members { (worst.unknowns[m] ?? []).forEach(add); (best.unknowns[m] ?? []).forEach(add) }
            }
            // A missing parent leaves the path to the root unknown in either pass.
            for m in members { if let u = model.function(m)?.position.unknown { add(u) } }
            // A VMD domain (0x10000 and up) whose VMD controller is not in the input: its group is the controller's.
            for m in members where m.domain > 0xffff && !members.contains(where: { model.function($0).map(DMAAliasQuirks.isVMDEndpoint) ?? false }) {
                add(Unknown("\(m) is in PCI domain \(hex(m.domain, 5)), which an Intel VMD controller creates; the functions behind it share the controller's group, and the controller is not in the input",
                            remedy: "include the VMD controller (class 0104, Intel) in the input, or read the host's own IOMMU groups"))
            }
            groups[i].unknowns = unknowns
            groups[i].ifIsolated = unknowns.isEmpty ? [] : alternatives
        }
        var groupIndex: [PCIAddress: Int] = [:]
        for (i, g) in groups.enumerated() {
            for m in g.members { groupIndex[m] = i }
        }
        var prediction = GroupPrediction(groups: groups, uncertainties: uncertainties, matchesKernel: nil,
                                         unexplainedKernelGroups: [], kernelMatches: [:], groupIndex: groupIndex,
                                         rules: policy.context.rules, acsOverride: policy.context.override)
        compareWithKernel(&prediction, model)
        return prediction
    }

    /// Host-wide reasons the prediction may differ from the kernel's groups.
    static func hostUncertainties(_ model: HostModel) -> [String] {
        var uncertainties: [String] = []
        let params = model.environment.commandLineParameters
        if let override = params["pcie_acs_override"] {
            let parsed = ACSOverride(parsing: override)
            if !parsed.ignored.isEmpty {
                uncertainties.append("pcie_acs_override=\(override) has parts the patch does not take (\(parsed.ignored.joined(separator: ", "))); the prediction replays the rest")
            }
        }
        if let pci = params["pci"], pci.split(separator: ",").contains("noacs") {
            uncertainties.append("pci=noacs is on the kernel command line: mainline has no such option (it prints \"Unknown option\"), but a vendor kernel may, and then ACS is not enabled")
        }
        if let u = model.environment.kernelCommandLine.unknown {
            uncertainties.append("the kernel command line is unknown (\(u.reason)), so an ACS override cannot be ruled out")
        }
        let undecoded = model.functions.filter { $0.capabilitiesUnknown != nil }
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
        if !model.skippedFunctions.isEmpty {
            uncertainties.append("\(model.skippedFunctions.count) function(s) named by the input could not be read (e.g. \(model.skippedFunctions[0])); their groups are not predicted")
        }
        return uncertainties
    }

    struct Assignment {
        var groups: [PredictedGroup] = []
        var groupOf: [PCIAddress: Int] = [:]
        /// The unknown facts each function's placement read.
        var unknowns: [PCIAddress: [Unknown]] = [:]
    }

    /// One pass of `pci_device_group` in scan order, with unknown facts taken as `assumption` says.
    static func assign(_ order: [PCIAddress], _ model: HostModel,
                       _ policy: ACSPolicy, _ assumption: Assumption) -> Assignment {
        var state = Assignment()
        func join(_ f: PCIAddress, _ g: Int, _ cause: GroupCause) {
            state.groupOf[f] = g
            state.groups[g].members.append(f)
            if !state.groups[g].causes.contains(cause) { state.groups[g].causes.append(cause) }
        }
        func note(_ f: PCIAddress, _ u: Unknown) {
            if !(state.unknowns[f]?.contains(u) ?? false) { state.unknowns[f, default: []].append(u) }
        }
        /// Whether `verdict` isolates, under the pass's assumption for an unknown one.
        func isolates(_ verdict: ACSPolicy.Verdict, for f: PCIAddress) -> Bool {
            switch verdict {
            case .isolated: return true
            case .notIsolated: return false
            case let .unknown(u):
                note(f, u)
                return assumption == .isolated
            }
        }

        // Functions that a quirk gives DMA aliases, and the buses they are on (most buses have none).
        var quirkAliases: [PCIAddress: (quirk: String, alias: DMAAliasQuirks.Alias)] = [:]
        for f in model.functions { if let a = DMAAliasQuirks.aliases(of: f) { quirkAliases[f.address] = a } }
        let aliasBuses = Set(quirkAliases.keys.map { UInt64($0.domain) << 8 | UInt64($0.bus) })
        let vmdEndpoints = model.functions.filter(DMAAliasQuirks.isVMDEndpoint)

        for address in order {
            guard let f = model.function(address) else { continue }
            // 0. A function in a VMD domain issues DMA as the VMD endpoint (pci_real_dma_dev): its group.
            if address.domain > 0xffff {
                let vmd = f.upstream.lazy.compactMap { model.function($0) }.first(where: DMAAliasQuirks.isVMDEndpoint)
                    ?? (vmdEndpoints.count == 1 ? vmdEndpoints[0] : nil)
                if let vmd, let g = state.groupOf[vmd.address] {
                    join(address, g, GroupCause(kind: .dmaAliasQuirk, at: vmd.address, missingACS: [],
                        explanation: "\(address) is in the PCI domain of the Intel VMD controller \(vmd.address), which issues its DMA under its own requester ID (pci_real_dma_dev): everything behind a VMD shares its group"))
                    continue
                }
                if vmd == nil, !vmdEndpoints.isEmpty {
                    note(address, Unknown("\(address) is in a VMD domain, and which of the \(vmdEndpoints.count) VMD controllers it is behind is not in the input",
                                          remedy: "read the host's sysfs, whose paths name the VMD controller"))
                }
            }
            // 1. DMA aliases (pci_for_each_dma_alias, drivers/pci/search.c): a conventional PCI or PCI-X bridge
            //    (not PCI Express) and a PCIe-to-PCI bridge take over the requester IDs of what is below them;
            //    Root Ports and switch ports never do. A bridge of unknown type may or may not.
            var aliasGroup: (Int, PCIAddress, GroupCause.Kind)?
            for bridgeAddress in f.upstream {
                guard let bridge = model.function(bridgeAddress) else { continue }
                // quirk_bridge_cavm_thrx2_pcie_root: the walk stops at a bridge that translates to the root.
                if DMAAliasQuirks.stopsAliasWalk(bridge) { break }
                let aliases: Bool
                var kind = GroupCause.Kind.pciBridgeAlias
                switch bridge.portType {
                case let .known(type, _):
                    aliases = type == nil || type == .pcieToPCIBridge || type == .pciToPCIeBridge
                case let .unknown(u):
                    note(address, Unknown("whether \(bridgeAddress) takes over the requester IDs below it depends on its port type: \(u.reason)", remedy: u.remedy))
                    aliases = assumption == .notIsolated
                    kind = .factUnknown
                }
                if aliases, let g = state.groupOf[bridgeAddress] {
                    aliasGroup = (g, bridgeAddress, kind)
                    break
                }
            }
            if let (g, bridge, kind) = aliasGroup {
                let explanation = kind == .factUnknown
                    ? "the port type of \(bridge) is unknown: if it is a conventional or PCIe-to-PCI bridge, it issues DMA from the devices behind it under its own requester ID"
                    : "\(bridge) is a PCI bridge that issues DMA from the devices behind it under its own requester ID"
                join(address, g, GroupCause(kind: kind, at: bridge, missingACS: [], explanation: explanation))
                continue
            }
            // 2. The upstream walk: the first bridge whose path to the root is not ACS-isolated owns the group.
            var subject = f
            var joined = false
            for bridgeAddress in f.upstream {
                guard let bridge = model.function(bridgeAddress) else { continue }
                guard let (failing, verdict) = firstNonIsolated(onPathFrom: bridge, model, policy, isolates: { isolates($0, for: address) }) else {
                    break
                }
                subject = bridge
                if let g = state.groupOf[bridgeAddress] {
                    let missing: [String]
                    if case let .notIsolated(_, m) = verdict { missing = m.names } else { missing = [] }
                    let cause = verdict.unknownFact.map { u in
                        GroupCause(kind: .factUnknown, at: failing.address, missingACS: [],
                                   explanation: "whether \(failing.address) isolates what is below it is unknown: \(u.reason)")
                    } ?? GroupCause(kind: .acsMissing, at: failing.address, missingACS: missing,
                                    explanation: "\(failing.address) does not isolate what is below it: \(verdictText(verdict))")
                    join(address, g, cause)
                    joined = true
                    break
                }
            }
            if joined { continue }
            // 3. DMA aliases on the subject's bus, in either direction (get_pci_alias_group, pci_devs_are_dma_aliases).
            if aliasBuses.contains(UInt64(subject.address.domain) << 8 | UInt64(subject.address.bus)) {
                let devfn = subject.address.device << 3 | subject.address.function
                var partner: (PCIAddress, String)?
                for other in model.functions(onBusOf: subject.address) where other.address != subject.address {
                    guard let g = state.groupOf[other.address] else { continue }
                    let otherDevfn = other.address.device << 3 | other.address.function
                    var quirk: String?
                    for (from, to, target) in [(subject.address, other.address, otherDevfn), (other.address, subject.address, devfn)] {
                        guard let (name, alias) = quirkAliases[from] else { continue }
                        switch alias {
                        case let .devfns(list) where list.contains(target):
                            quirk = name
                        case .devfns:
                            break
                        case .fromDeviceMemory:
                            note(address, Unknown("\(from) is a Switchtec NTB endpoint whose DMA aliases the kernel reads from its BAR 0 at boot (quirk_switchtec_ntb_dma_alias): whether \(to) is one of them is not in config space",
                                                  remedy: "read the kernel's own IOMMU groups"))
                            if assumption == .notIsolated { quirk = name + " (aliases unknown: the worst case)" }
                        }
                        if quirk != nil { break }
                    }
                    if let quirk, state.groups.indices.contains(g) { partner = (other.address, quirk); break }
                }
                if let (other, quirk) = partner, let g = state.groupOf[other] {
                    let kind: GroupCause.Kind = quirk.contains("unknown") ? .factUnknown : .dmaAliasQuirk
                    join(address, g, GroupCause(kind: kind, at: other, missingACS: [],
                        explanation: "\(subject.address) and \(other) are DMA aliases of each other (kernel quirk \(quirk)), so they share a group"))
                    continue
                }
            }
            // 3. Other functions of a multifunction slot without ACS (get_pci_function_alias_group).
            let subjectVerdict = policy.evaluate(subject)
            // A function 0 whose header is unreadable may or may not be multifunction: the pass's assumption decides.
            var multifunction = policy.isMultifunction(subject)
            // Functions above 0 in the input imply the bit (the kernel scans them only behind a function 0 that sets it).
            if subject.header == nil || subject.multifunctionUnknown != nil, subject.address.function == 0, !subject.isVirtualFunction {
                if model.containsFunction(inSlot: subject.address.slot, where: { $0.address.function > 0 && !$0.isVirtualFunction }) {
                    multifunction = true
                } else {
                    note(address, subject.multifunctionUnknown ?? Unknown("whether slot \(subject.address.slot) is multifunction is unknown: the header of \(subject.address) is not readable",
                                                                          remedy: subject.provenance.configRemedy))
                    multifunction = assumption == .notIsolated
                }
            }
            if multifunction, !isolates(subjectVerdict, for: address) {
                let mates = model.functions(inSlot: subject.address.slot, where: {
                    $0.address != subject.address && !$0.isVirtualFunction && !isolates(policy.evaluate($0), for: address)
                })
                if let mate = mates.first(where: { state.groupOf[$0.address] != nil }), let g = state.groupOf[mate.address] {
                    let cause: GroupCause
                    if let u = subjectVerdict.unknownFact {
                        cause = GroupCause(kind: .factUnknown, at: subject.address, missingACS: [],
                                           explanation: "slot \(subject.address.slot) is multifunction and whether \(subject.address) is isolated from \(mate.address) is unknown: \(u.reason)")
                    } else {
                        var missing: [String] = []
                        var why = ""
                        if case let .notIsolated(w, m) = subjectVerdict { missing = m.names; why = w }
                        cause = GroupCause(kind: .multifunctionWithoutACS, at: subject.address, missingACS: missing,
                                           explanation: "slot \(subject.address.slot) is multifunction and \(subject.address) is not isolated from \(mate.address): \(why)")
                    }
                    join(address, g, cause)
                    continue
                }
            }
            state.groupOf[address] = state.groups.count
            state.groups.append(PredictedGroup(members: [address], causes: []))
        }
        for i in state.groups.indices { state.groups[i].members.sort() }
        return state
    }

    /// Compares with the kernel's groups, as sets of members over the functions the kernel grouped. Each
    /// kernel group can only equal the predicted group of its first member, so this is one pass.
    static func compareWithKernel(_ prediction: inout GroupPrediction, _ model: HostModel) {
        guard model.environment.groupSource.isKnown, !model.groups.isEmpty else { return }
        let known = Set(model.functions.map(\.address))
        let inconsistent = model.functions.filter { f in f.diagnostics.contains { $0.code == "group-inconsistent" } }
            + model.groups.filter { $0.inconsistency != nil }.flatMap(\.members).compactMap { model.function($0) }
        let grouped = Set(model.groups.flatMap(\.members))
        var matchedPredicted = Set<Int>()
        var unexplained: [[PCIAddress]] = []
        var onlyUnderAssumption = false
        var incomplete = false
        for kernel in model.groups where !kernel.members.isEmpty && kernel.inconsistency == nil {
            let members = kernel.members.sorted()
            if members.contains(where: { !known.contains($0) }) {
                incomplete = true
                continue
            }
            guard let i = prediction.groupIndex[members[0]] else { unexplained.append(members); continue }
            let predicted = prediction.groups[i]
            if predicted.members.filter(grouped.contains) == members {
                prediction.kernelMatches[kernel.id] = i
                matchedPredicted.insert(i)
                if !predicted.isCertain { onlyUnderAssumption = true }
            } else if !predicted.isCertain, Set(members).isSubset(of: Set(predicted.members)),
                      predicted.ifIsolated.allSatisfy({ piece in
                          let inside = piece.filter { members.contains($0) }
                          return inside.isEmpty || inside.count == piece.filter(grouped.contains).count
                      }) {
                // Between the two outcomes: inside the worst-case group, and made of whole best-case groups.
                // Some mix of the unknown facts gives exactly this group.
                onlyUnderAssumption = true
            } else if members.contains(where: { model.function($0)?.position.value == nil }) {
                // A member whose parent the input does not show (a group listing, a filtered dump): which bridges its
                // group rests on is unknown, so no prediction can be held against this group.
                onlyUnderAssumption = true
            } else {
                unexplained.append(members)
            }
        }
        if incomplete {
            prediction.uncertainties.append("some kernel groups list functions the scan could not read; they are not compared")
        }
        if !inconsistent.isEmpty {
            prediction.uncertainties.append("the kernel's group links and listings disagree for \(inconsistent.count) function(s) (e.g. \(inconsistent[0].address)), so the kernel's groups are not certain")
        }
        unexplained.sort { $0[0] < $1[0] }
        prediction.unexplainedKernelGroups = unexplained
        if !unexplained.isEmpty {
            prediction.matchesKernel = false
        } else if onlyUnderAssumption || incomplete || !inconsistent.isEmpty {
            prediction.matchesKernel = nil
        } else {
            // Every predicted group holding a grouped function must equal some kernel group.
            let stray = prediction.groups.indices.contains { i in
                !matchedPredicted.contains(i) && prediction.groups[i].members.contains(where: grouped.contains)
            }
            prediction.matchesKernel = !stray
        }
    }

    /// `pci_acs_path_enabled(bridge, NULL, REQ_ACS_FLAGS)`: the first function on the way to the root that
    /// `isolates` rejects, with its verdict.
    static func firstNonIsolated(onPathFrom bridge: PCIFunction, _ model: HostModel, _ policy: ACSPolicy,
                                 isolates: (ACSPolicy.Verdict) -> Bool) -> (PCIFunction, ACSPolicy.Verdict)? {
        var current: PCIFunction? = bridge
        var steps = 0
        while let f = current, steps < 256 {
            let verdict = policy.evaluate(f)
            if !isolates(verdict) { return (f, verdict) }
            current = f.upstream.first.flatMap { model.function($0) }
            steps += 1
        }
        return nil
    }

    static func verdictText(_ v: ACSPolicy.Verdict) -> String {
        switch v {
        case let .isolated(why): why
        case let .notIsolated(why, _): why
        case let .unknown(u): "unknown: \(u.reason)"
        }
    }

    /// The order in which the kernel adds devices: each bus's functions by devfn, then each bridge's
    /// secondary bus depth first; VFs last, as they are created after boot.
    public static func scanOrder(_ model: HostModel) -> [PCIAddress] {
        // Addresses only: copies of the functions here held 6 MB at 4,000 functions (the report's peak).
        var children: [PCIAddress: [PCIAddress]] = [:]
        var roots: [PCIAddress] = []
        var vfs: [(pf: PCIAddress, address: PCIAddress)] = []
        for f in model.functions {
            if f.isVirtualFunction { vfs.append((f.physicalFunction ?? f.address, f.address)); continue }
            if let parent = f.upstream.first { children[parent, default: []].append(f.address) } else { roots.append(f.address) }
        }
        var order: [PCIAddress] = []
        order.reserveCapacity(model.functions.count)
        func visit(_ bus: [PCIAddress]) {
            let sorted = bus.sorted()
            order.append(contentsOf: sorted)
            for a in sorted where children[a] != nil {
                visit(children[a] ?? [])
            }
        }
        visit(roots)
        // VFs in PF order, then VF index (their addresses ascend with the index).
        order.append(contentsOf: vfs.sorted { ($0.pf, $0.address) < ($1.pf, $1.address) }.map(\.address))
        return order
    }
}
