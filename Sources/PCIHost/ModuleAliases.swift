#if canImport(Glibc)
import Glibc
#endif

/// The kernel's module alias table (`lib/modules/RELEASE/modules.alias`, written by depmod), as lspci -k uses it
/// through libkmod: a function's `modalias` (`pci:v00008086d00001533sv…bc02sc00i00`) matched against each
/// `alias pci:… MODULE` glob names the modules that can drive it.
public struct ModuleAliases: Sendable {
    /// (glob, module) for every `alias pci:` line, in file order.
    let patterns: [(String, String)]
    /// (glob, module) for every `alias vfio_pci:` line: the IDs a VFIO variant driver claims only through
    /// driver_override (`PCI_DRIVER_OVERRIDE_DEVICE_VFIO`, `override_only`; file2alias writes the `vfio_` prefix,
    /// Linux 5.16+). libvirt ≥ 10.0 (virPCIDeviceFindBestVFIOVariant) picks the driver for managed='yes' from them.
    let vfioPatterns: [(String, String)]

    /// Lines of the table that are not depmod's `alias PATTERN MODULE` (three space-separated fields, a module
    /// name of letters, digits, `_` and `-`): a table with any is not the kernel's, and what it says is unknown.
    public let malformedLines: Int

    /// Parses the text of modules.alias; only `alias pci:` and `alias vfio_pci:` lines are kept.
    public init(text: String) {
        var patterns: [(String, String)] = []
        var vfio: [(String, String)] = []
        var malformed = 0
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 3, fields[0] == "alias", !fields[1].isEmpty,
                  !fields[2].isEmpty, fields[2].utf8.allSatisfy({ $0 == 0x5f || $0 == 0x2d || (0x30...0x39).contains($0) || (0x41...0x5a).contains($0) || (0x61...0x7a).contains($0) }) else {
                malformed += 1
                continue
            }
            if fields[1].hasPrefix("vfio_pci:") { vfio.append((String(fields[1]), String(fields[2]))) }
            else if fields[1].hasPrefix("pci:") { patterns.append((String(fields[1]), String(fields[2]))) }
        }
        self.patterns = patterns
        self.vfioPatterns = vfio
        self.malformedLines = malformed
    }

    /// Whether the text reads as a kernel's table: no malformed line, and some `alias pci:` lines (every kernel
    /// with PCI modules has them).
    public var isPlausible: Bool { malformedLines == 0 && !patterns.isEmpty }

    /// The VFIO variant driver modules whose `vfio_pci:` alias matches `modalias` (`pci:v…`, matched as
    /// `vfio_pci:v…`), most specific first (fewest `*` fields, as libvirt's virPCIDeviceFindBestVFIOVariant
    /// ranks them), each once. vfio_pci's own match-all alias is not a variant and is left out.
    public func vfioVariants(for modalias: String) -> [String] {
        guard modalias.hasPrefix("pci:") else { return [] }
        let key = "vfio_" + modalias
        var found: [(module: String, wildcards: Int)] = []
        for (glob, module) in vfioPatterns where module != "vfio_pci" && fnmatch(glob, key, 0) == 0 {
            let wildcards = glob.filter { $0 == "*" }.count
            if let i = found.firstIndex(where: { $0.module == module }) {
                found[i].wildcards = min(found[i].wildcards, wildcards)
            } else {
                found.append((module, wildcards))
            }
        }
        return found.enumerated().sorted { ($0.element.wildcards, $0.offset) < ($1.element.wildcards, $1.offset) }.map(\.element.module)
    }

    /// How many `alias vfio_pci:` lines the table has.
    public var vfioLineCount: Int { vfioPatterns.count }

    /// The modules whose alias matches `modalias`, each once, in the order of the table (fnmatch(3), as kmod).
    public func modules(for modalias: String) -> [String] {
        var found: [String] = []
        for (glob, module) in patterns where !found.contains(module) && fnmatch(glob, modalias, 0) == 0 {
            found.append(module)
        }
        return found
    }

    /// Where depmod writes the table for `release`, relative to the root.
    public static func path(release: String) -> String { "lib/modules/\(release)/modules.alias" }
}
