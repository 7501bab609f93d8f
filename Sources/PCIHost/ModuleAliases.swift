#if canImport(Glibc)
import Glibc
#endif

/// The kernel's module alias table (`lib/modules/RELEASE/modules.alias`, written by depmod), as lspci -k uses it
/// through libkmod: a function's `modalias` (`pci:v00008086d00001533sv…bc02sc00i00`) matched against each
/// `alias pci:… MODULE` glob names the modules that can drive it.
public struct ModuleAliases: Sendable {
    /// (glob, module) for every `alias pci:` line, in file order.
    let patterns: [(String, String)]

    /// Parses the text of modules.alias; only `alias pci:` lines are kept.
    public init(text: String) {
        var patterns: [(String, String)] = []
        for line in text.split(separator: "\n") where line.hasPrefix("alias pci:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 3 else { continue }
            patterns.append((String(fields[1]), String(fields[2])))
        }
        self.patterns = patterns
    }

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
