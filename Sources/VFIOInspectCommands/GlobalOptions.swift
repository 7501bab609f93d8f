import ArgumentParser
import PCIHost
import PCILibPCI

/// Options every subcommand that reads a host takes.
public struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Read the host under DIR instead of / (DIR/sys, DIR/proc): a snapshot or a chroot.", valueName: "DIR"))
    public var root: String = "/"

    @Option(name: .long, help: ArgumentHelp("Read an lspci -x/-xxx/-xxxx hex dump instead of sysfs (- for standard input); its `IOMMU group:` and `Kernel driver in use:` lines give groups and drivers, other host facts are unknown.", valueName: "FILE"))
    public var dump: String?

    @Option(name: .customLong("pci-ids"), help: ArgumentHelp("The pci.ids file to take names from (default: libpci's).", valueName: "FILE"))
    public var pciIDs: String?

    public init() {}

    /// Reads the host the options name. Prints a clear message and exits 3 when the input is unusable.
    func loadHost(options: ScanOptions = ScanOptions()) throws -> HostModel {
        if root.isEmpty {
            printError("vfio-inspect: --root needs a directory (use --root / for this host)")
            throw ExitCode(ExitStatus.usage)
        }
        let names: PCIIDDatabase?
        do {
            let db = try PCIIDDatabase(path: pciIDs)
            names = db.isAvailable ? db : nil
            if !db.isAvailable {
                if let pciIDs {
                    printError("warning: the pci.ids database could not be read from \(pciIDs) (missing or not a pci.ids file); names are left out")
                } else {
                    printError("warning: the pci.ids database could not be read; names are left out (install the pci.ids package)")
                }
            }
        } catch {
            printError("warning: \(error); names are left out")
            names = nil
        }
        do {
            if let dump {
                if root != "/" {
                    printError("warning: --dump given; --root \(root) is ignored")
                }
                return try DumpScanner(path: dump, names: names, options: options).scan()
            }
            return try SysfsScanner(root: HostRoot(root), names: names, options: options).scan()
        } catch {
            printError("vfio-inspect: \(error)")
            throw ExitCode(ExitStatus.inputUnusable)
        }
    }
}

extension GlobalOptions {
    /// The first `count` config bytes of a function, for hex dumps.
    func configBytes(of function: PCIFunction, count: Int) throws -> [UInt8] {
        try SysfsScanner(root: HostRoot(root)).configBytes(of: function, count: count)
    }
}

public enum ExitStatus {
    public static let ok: Int32 = 0
    /// `check`: ready only after preparation, or with warnings.
    public static let needsPreparation: Int32 = 1
    /// `check`: the assignment cannot be made safely.
    public static let blocked: Int32 = 2
    /// The input (root, dump, snapshot) could not be read at all.
    public static let inputUnusable: Int32 = 3
    /// `check`/`plan`/`report --exit-status`: something that decides the verdict is unknown.
    public static let undetermined: Int32 = 4
    /// A selector (or `--hide`) matched no function.
    public static let selectorUnmatched: Int32 = 5
    /// A malformed command line (argument-parser's own status).
    public static let usage: Int32 = 64
}


/// Selectors as lspci -s takes them: a usage error (exit 64) when malformed.
func validateSelectors(_ texts: [String]) throws {
    for s in texts {
        do { _ = try PCISelector(parsing: s) } catch { throw ValidationError(error.description) }
    }
}

/// The functions the selectors name, in address order. Every selector must match something: one that
/// matches nothing is named on stderr and the command exits 5 (`ExitStatus.selectorUnmatched`), so a script
/// never takes a partial answer for the whole one.
func selectedFunctions(_ texts: [String], in model: HostModel, option: String = "") throws -> [PCIAddress] {
    var chosen: Set<PCIAddress> = []
    var unmatched: [String] = []
    for text in texts {
        let selector = try PCISelector(parsing: text)
        let matches = model.functions(matching: selector)
        if matches.isEmpty { unmatched.append(text) }
        chosen.formUnion(matches.map(\.address))
    }
    guard unmatched.isEmpty else {
        printError("vfio-inspect: \(option)\(unmatched.joined(separator: ", ")) \(unmatched.count == 1 ? "matches" : "match") no function of \(model.source)")
        throw ExitCode(ExitStatus.selectorUnmatched)
    }
    return chosen.sorted()
}

/// Prints the input's host diagnostics (functions skipped, files unreadable) on stderr, once per command.
func printHostDiagnostics(_ model: HostModel) {
    for d in model.diagnostics {
        printError("note: \(d.code): \(d.message)")
    }
}
