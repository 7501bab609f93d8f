import VFIOAnalysis
import VFIOReport

/// One `resource.k8s.io/v1` ResourceSlice of `export --format dra`, whose devices carry the attributes DRA drivers publish
/// for PCI functions, plus what they do not compute: the IOMMU group and whether it can be passed through.
///
/// Standard attributes (k8s.io/dynamic-resource-allocation `deviceattribute`): `resource.kubernetes.io/pciBusID`
/// (`0000:01:00.0`), `resource.kubernetes.io/pcieRoot` (`pci0000:00`; left out when the input does not show the
/// parent chain), `resource.kubernetes.io/numaNode` (left out for -1 or unknown). Unqualified names are in the
/// driver's domain (`--driver`): `iommuGroup` (int; left out when unknown or none), `iommuGroupKnown`, `isVF` (left out
/// for a function reading ffff that nothing places),
/// `pfPciBusID`, `verdict`, and `vfioUnsafe` — the deciding finding's code (≤ 64 characters, DRA's string limit) when
/// the unit is not viable. Device names are DNS labels (`pci-0000-01-00-0`). Bridges are left out: they are never
/// assigned. Schema: `Schemas/vfio-inspect-dra.schema.json`; the shape is resource.k8s.io/v1's.
public struct DRAResourceSlice: Encodable, Sendable {
    /// A `DeviceAttribute`: exactly one of `int`, `bool`, `string`.
    public enum Attribute: Encodable, Sendable {
        case int(Int)
        case bool(Bool)
        case string(String)

        private enum Key: String, CodingKey { case int, bool, string }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            switch self {
            case let .int(v): try c.encode(v, forKey: .int)
            case let .bool(v): try c.encode(v, forKey: .bool)
            case let .string(v): try c.encode(v, forKey: .string)
            }
        }
    }

    public struct Device: Encodable, Sendable {
        public let name: String
        public let attributes: [String: Attribute]
    }

    public struct Pool: Encodable, Sendable {
        public let name: String
        public let generation: Int
        public let resourceSliceCount: Int
    }

    public struct Spec: Encodable, Sendable {
        public let driver: String
        public let nodeName: String
        public let pool: Pool
        public let devices: [Device]
    }

    public struct Metadata: Encodable, Sendable {
        public let name: String
    }

    public let apiVersion = "resource.k8s.io/v1"
    public let kind = "ResourceSlice"
    public let metadata: Metadata
    public let spec: Spec

    /// DRA's `DeviceAttributeMaxValueLength`.
    static let maxStringLength = 64

    /// The devices `facts` gives, in address order (bridges left out).
    static func devices(_ facts: FleetFacts) -> [Device] {
        var devices: [Device] = []
        for f in facts.functions where !f.isBridge {
            var a: [String: Attribute] = [
                "resource.kubernetes.io/pciBusID": .string(f.address.description),
                "iommuGroupKnown": .bool(f.groupKnown),
                "verdict": .string(f.verdict.rawValue),
            ]
            if !f.identityUnknown { a["isVF"] = .bool(f.isVirtualFunction) }
            if let root = f.pcieRoot { a["resource.kubernetes.io/pcieRoot"] = .string(root) }
            if let node = f.numaNode { a["resource.kubernetes.io/numaNode"] = .int(node) }
            if let group = f.iommuGroup { a["iommuGroup"] = .int(group) }
            if let pf = f.physicalFunction { a["pfPciBusID"] = .string(pf.description) }
            if let driver = f.vfioDriver { a["vfioDriver"] = .string(String(driver.prefix(Self.maxStringLength))) }
            if let cdev = f.vfioCdev { a["vfioCdev"] = .bool(cdev) }
            if case let .known(type, _)? = f.vgpuType {
                a["vgpuTypeSet"] = .bool(type != nil)
                if let type { a["vgpuType"] = .int(type) }
            }
            if f.verdict != .ready && f.verdict != .needsPreparation {
                a["vfioUnsafe"] = .string(String((f.deciding?.rawValue ?? f.verdict.rawValue).prefix(Self.maxStringLength)))
            }
            let name = "pci-" + f.address.description.map { $0 == ":" || $0 == "." ? "-" : $0 }.map(String.init).joined()
            devices.append(Device(name: name, attributes: a))
        }
        return devices
    }

    init(name: String, driver: String, nodeName: String, sliceCount: Int, devices: [Device]) {
        metadata = Metadata(name: name)
        spec = Spec(driver: driver, nodeName: nodeName, pool: Pool(name: nodeName, generation: 1, resourceSliceCount: sliceCount), devices: devices)
    }
}

/// `export --format dra`: a `v1` List of the ResourceSlices of one pool (named after the node), at most
/// `ResourceSliceMaxDevices` (128) devices each, `resourceSliceCount` set to their number, as the API server requires
/// (k8s.io/api resource/v1 `ResourceSliceMaxDevices`); `kubectl apply -f` takes a List as it is.
public struct DRAResourceSliceList: Encodable, Sendable {
    /// `ResourceSliceMaxDevices`.
    public static let maxDevicesPerSlice = 128

    public let apiVersion = "v1"
    public let kind = "List"
    public let items: [DRAResourceSlice]

    public init(_ facts: FleetFacts, driver: String, nodeName: String) {
        let devices = DRAResourceSlice.devices(facts)
        let chunks = stride(from: 0, to: max(devices.count, 1), by: Self.maxDevicesPerSlice).map {
            Array(devices[$0..<min($0 + Self.maxDevicesPerSlice, devices.count)])
        }
        items = chunks.enumerated().map { i, chunk in
            DRAResourceSlice(name: "\(nodeName)-vfio-inspect-\(i)", driver: driver, nodeName: nodeName, sliceCount: chunks.count, devices: chunk)
        }
    }
}
