import PCIConfigSpace
import VFIOAnalysis
import VFIOReport

/// `export --format ansible-fact`: the JSON Ansible's `setup` module loads from
/// `/etc/ansible/facts.d/vfio_inspect.fact` into `ansible_local.vfio_inspect` (a plain file is parsed as JSON; an
/// executable one is run and its output parsed, so the command exits 0 even when the host cannot be read and says so
/// inside: `ok` false with `error`). Schema: `Schemas/vfio-inspect-ansible-fact.schema.json`.
public struct AnsibleFact: Encodable, Sendable {
    public struct Unit: Encodable, Sendable {
        /// The kernel's group number; null for a predicted unit.
        @Nullable public var iommuGroup: Int?
        public let members: [String]
        public let verdict: String
        /// Ready or needs-preparation: nothing known blocks and nothing that decides is unknown.
        public let viable: Bool
        /// The deciding finding's code and the `check` line it belongs to; null when ready.
        @Nullable public var code: String?
        @Nullable public var check: String?
        @Nullable public var message: String?
    }

    public struct Function: Encodable, Sendable {
        /// Null when the function reads ffff and nothing in the input places it (then `virtualFunction` is null too).
        @Nullable public var vendorID: String?
        @Nullable public var deviceID: String?
        /// Kernel group number; null when in none or unknown (`groupKnown`).
        @Nullable public var iommuGroup: Int?
        public let groupKnown: Bool
        public let verdict: String
        public let viable: Bool
        @Nullable public var virtualFunction: Bool?
        @Nullable public var physicalFunction: String?
    }

    public let schemaVersion: Int
    /// False when the host could not be read; then `error` says why and nothing else is filled in.
    public let ok: Bool
    @Nullable public var error: String?
    @Nullable public var source: String?
    /// `on`, `off` or `unknown`.
    @Nullable public var iommu: String?
    @Nullable public var interruptRemapping: String?
    @Nullable public var kernelRelease: String?
    /// Units per verdict (`ready`, `needs-preparation`, `blocked`, `undetermined`); null when `ok` is false.
    @Nullable public var counts: [String: Int]?
    /// Units that can be passed through (ready or needs-preparation); null when `ok` is false. Platform units (host
    /// bridges, LPC, ports) are never viable, so compare with the units you mean to assign, not with the total.
    @Nullable public var viableUnits: Int?
    public let units: [Unit]
    /// By address (`0000:01:00.0`).
    public let functions: [String: Function]

    public init(_ facts: FleetFacts, source: String) {
        schemaVersion = JSONSchemaVersion.current
        ok = true
        error = nil
        self.source = source
        iommu = facts.iommu.rawValue
        interruptRemapping = facts.interruptRemapping.rawValue
        kernelRelease = facts.kernelRelease
        counts = Dictionary(uniqueKeysWithValues: UnitVerdict.allCases.map { ($0.rawValue, facts.unitsByVerdict[$0] ?? 0) })
        viableUnits = facts.units.filter(\.isViable).count
        units = facts.units.map { u in
            Unit(iommuGroup: u.groupID, members: u.members.map(\.description), verdict: u.verdict.rawValue, viable: u.isViable,
                 code: u.deciding?.rawValue, check: u.deciding?.line.id, message: u.decidingMessage)
        }
        var byAddress: [String: Function] = [:]
        for f in facts.functions {
            byAddress[f.address.description] = Function(
                vendorID: f.identityUnknown ? nil : hex(f.vendorID, 4),
                deviceID: f.identityUnknown ? nil : hex(f.deviceID, 4),
                iommuGroup: f.iommuGroup, groupKnown: f.groupKnown, verdict: f.verdict.rawValue,
                viable: f.verdict == .ready || f.verdict == .needsPreparation, virtualFunction: f.identityUnknown ? nil : f.isVirtualFunction,
                physicalFunction: f.physicalFunction?.description)
        }
        functions = byAddress
    }

    /// The fact for a host that could not be read.
    public init(error: String) {
        schemaVersion = JSONSchemaVersion.current
        ok = false
        self.error = error
        counts = nil
        viableUnits = nil
        units = []
        functions = [:]
    }
}
