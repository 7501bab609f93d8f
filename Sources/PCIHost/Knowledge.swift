/// Why a fact is not known, and what would supply it.
///
/// Every rule that reads a fact it does not have says UNKNOWN with this reason and remedy;
/// it never treats the missing fact as absent.
public struct Unknown: Hashable, Sendable, CustomStringConvertible {
    /// What is missing and why, e.g. "only 64 of 4096 config bytes are readable (not root)".
    public let reason: String
    /// What would supply it, e.g. "run as root", "capture with `lspci -vvvxxxx`".
    public let remedy: String

    public init(_ reason: String, remedy: String) {
        self.reason = reason
        self.remedy = remedy
    }

    public var description: String { "\(reason) (\(remedy))" }
}

/// One fact about a host as the input shows it: known with its evidence, or unknown with why.
///
/// "Known absent" is a known value that says so (`.known(nil, …)`, `.known([], …)`, `.known(false, …)`),
/// always with the evidence of the absence ("the extended capability chain ends at 0x148 without ACS").
/// A rule that reads `.unknown` answers UNKNOWN; it never reads it as absent.
public enum Fact<Value: Hashable & Sendable>: Hashable, Sendable {
    case known(Value, evidence: String)
    case unknown(Unknown)

    /// The value when known.
    public var value: Value? {
        if case let .known(v, _) = self { v } else { nil }
    }

    /// Why the fact is missing, when it is.
    public var unknown: Unknown? {
        if case let .unknown(u) = self { u } else { nil }
    }

    /// The evidence of a known fact.
    public var evidence: String? {
        if case let .known(_, e) = self { e } else { nil }
    }

    public var isKnown: Bool { value != nil }

    /// The same fact with its value transformed; evidence and reasons are kept.
    public func map<T: Hashable & Sendable>(_ transform: (Value) -> T) -> Fact<T> {
        switch self {
        case let .known(v, e): .known(transform(v), evidence: e)
        case let .unknown(u): .unknown(u)
        }
    }

    /// Shorthand for an unknown fact.
    public static func unknown(_ reason: String, remedy: String) -> Self {
        .unknown(Unknown(reason, remedy: remedy))
    }
}

/// Where a function sits: below a bridge or port, or on a root bus.
public enum Position: Hashable, Sendable {
    /// On a root bus (the host bridge's bus): no secondary bus reset exists above it.
    case rootBus
    /// Directly below this bridge or port (its secondary bus).
    case below(PCIAddress)
}

/// Where the input came from, which decides what would supply a missing fact.
public enum Provenance: Hashable, Sendable {
    /// This machine's own /sys and /proc.
    case liveHost
    /// A copy of another root (`vfio-inspect snapshot`, a chroot, a test fixture).
    case snapshot
    /// An lspci hex dump.
    case dump

    /// What would supply config space that is missing beyond `readable` bytes.
    public var configRemedy: String {
        switch self {
        case .liveHost: "run as root: the kernel shows other users only the first 64 bytes of config space"
        case .snapshot: "take the snapshot as root (`vfio-inspect snapshot`), so it holds all of config space"
        case .dump: "capture as root with `lspci -nnkvvvxxxx` (4096 bytes per function)"
        }
    }

    /// What would supply a /proc or /sys file the input lacks.
    public func fileRemedy(_ path: String) -> String {
        switch self {
        case .liveHost: "make \(path) readable (run as root)"
        case .snapshot: "include \(path) in the snapshot (`vfio-inspect snapshot` copies it)"
        case .dump: "a dump holds config space only: run vfio-inspect on the host itself, or on a snapshot of it"
        }
    }
}
