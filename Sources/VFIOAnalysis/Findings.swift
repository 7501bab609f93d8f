import PCIConfigSpace
import PCIHost

/// One conclusion about the host, a group or a function: a stable code, a severity, what it means,
/// which functions it concerns, the evidence it rests on, and what to do.
public struct Finding: Hashable, Sendable {
    public enum Severity: String, Hashable, Sendable, Comparable {
        case info, warn, fail
        var rank: Int { switch self { case .info: 0; case .warn: 1; case .fail: 2 } }
        public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
    }

    public let code: String
    public let severity: Severity
    public let message: String
    public let functions: [PCIAddress]
    public let evidence: [String]
    public let fix: String?

    public init(_ code: String, _ severity: Severity, _ message: String, functions: [PCIAddress] = [], evidence: [String] = [], fix: String? = nil) {
        self.code = code
        self.severity = severity
        self.message = message
        self.functions = functions
        self.evidence = evidence
        self.fix = fix
    }
}

public enum UnitVerdict: String, Hashable, Sendable {
    case ready
    case needsPreparation = "needs-preparation"
    case blocked

    /// fail → blocked, warn → needs preparation, info only → ready.
    public init(_ findings: [Finding]) {
        let worst = findings.map(\.severity).max() ?? .info
        switch worst {
        case .fail: self = .blocked
        case .warn: self = .needsPreparation
        case .info: self = .ready
        }
    }
}

/// Drivers that let VFIO use a function (vfio-pci, its variant drivers, pci-stub holds it off the host).
public enum VFIODrivers {
    public static func isVFIO(_ driver: String?) -> Bool {
        guard let driver else { return false }
        return driver == "vfio-pci" || driver.hasSuffix("-vfio-pci") || driver.hasPrefix("vfio-pci-") || driver.hasPrefix("vfio_pci")
    }

    public static func isHeldFromHost(_ driver: String?) -> Bool {
        driver == nil || isVFIO(driver) || driver == "pci-stub"
    }
}
