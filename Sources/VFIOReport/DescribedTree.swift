import PCIConfigSpace
import PCIHost
import VFIOAnalysis

/// `tree --json`: the topology as nested nodes, each root bus with the functions on it and each bridge with
/// the functions below it, in address order.
public struct DescribedTree: Encodable, Sendable {
    public struct Isolation: Encodable, Sendable {
        /// `true` isolates what is below it, `false` does not, `null` unknown (see `why`).
        @Nullable public var isolates: Bool?
        public let why: String
    }

    public struct Node: Encodable, Sendable {
        public let address: String
        public let vendorID: String
        public let deviceID: String
        public let name: String
        @Nullable public var className: String?
        /// The kernel's IOMMU group; null when the function is in none or the input cannot say (`groupKnown`).
        @Nullable public var iommuGroup: Int?
        public let groupKnown: Bool
        /// The bound driver; null when none is bound or the input cannot say (`driverKnown`).
        @Nullable public var driver: String?
        public let driverKnown: Bool
        /// For a port or bridge: whether it isolates what is below it (pci_acs_enabled with REQ_ACS_FLAGS).
        @Nullable public var isolation: Isolation?
        public let children: [Node]
    }

    public struct RootBus: Encodable, Sendable {
        /// `dddd:bb`.
        public let bus: String
        public let functions: [Node]
    }

    public let schemaVersion: Int
    public let source: DescribedSource
    public let roots: [RootBus]

    public init(_ model: HostModel) {
        schemaVersion = JSONSchemaVersion.current
        source = DescribedSource(model.source)
        let (roots, below) = TreeRender.children(model)
        let policy = ACSPolicy(model)
        func node(_ f: PCIFunction) -> Node {
            let isolation = policy.portIsolation(f).map { v -> Isolation in
                switch v {
                case let .isolated(why): Isolation(isolates: true, why: why)
                case let .notIsolated(why, _): Isolation(isolates: false, why: why)
                case let .unknown(u): Isolation(isolates: nil, why: "unknown: \(u.reason) (\(u.remedy))")
                }
            }
            return Node(address: f.address.description, vendorID: hex(f.vendorID, 4), deviceID: hex(f.deviceID, 4),
                        name: ListText.identity(f), className: f.className, iommuGroup: model.groupKnown(f) ? f.iommuGroup : nil,
                        groupKnown: model.groupKnown(f), driver: f.driverBinding.value ?? nil,
                        driverKnown: f.driverBinding.isKnown, isolation: isolation,
                        children: (below[f.address] ?? []).sorted { $0.address < $1.address }.map(node))
        }
        let byBus = Dictionary(grouping: roots) { "\(hex($0.address.domain, 4)):\(hex($0.address.bus, 2))" }
        self.roots = byBus.keys.sorted().map { bus in
            RootBus(bus: bus, functions: (byBus[bus] ?? []).sorted { $0.address < $1.address }.map(node))
        }
    }
}
