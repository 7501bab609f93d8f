import ArgumentParser
import PCIHost
import PCILibPCI
import VFIOAnalysis
import VFIOReport
#if canImport(Glibc)
import Glibc
#endif

/// Options every subcommand that reads a host takes.
public struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Read the host under DIR instead of / (DIR/sys, DIR/proc): a snapshot or a chroot.", valueName: "DIR"), completion: .directory)
    public var root: String = "/"

    @Option(name: .long, help: ArgumentHelp("Read lspci output instead of sysfs (- for standard input): hex dumps (-x/-xxx/-xxxx), -v/-vv/-vvv text, -nnk, -tvnn, -vmmnn, IOMMU group listings, alone or mixed in one paste. Its `IOMMU group` and `Kernel driver in use:` lines give groups and drivers; registers the text does not print, and other host facts, are unknown.", valueName: "FILE"), completion: .file())
    public var dump: String?

    @Option(name: .customLong("pci-ids"), help: ArgumentHelp("The pci.ids file to take names from (default: libpci's).", valueName: "FILE"), completion: .file())
    public var pciIDs: String?

    @Option(name: .long, help: ArgumentHelp("Colour text output: auto (a terminal, unless NO_COLOR is set or TERM is dumb), always or never.", valueName: "WHEN"))
    public var color: ColorMode = .auto

    public init() {}

    /// The text style `--color` asks for: `auto` colours only a terminal, and never with `NO_COLOR` set
    /// (https://no-color.org) or `TERM=dumb`.
    var style: Style {
        switch color {
        case .always: return Style(color: true)
        case .never: return Style(color: false)
        case .auto:
            let env = { (name: String) in getenv(name).map { String(cString: $0) } }
            let noColor = !(env("NO_COLOR") ?? "").isEmpty
            return Style(color: isatty(1) != 0 && !noColor && env("TERM") != "dumb")
        }
    }

    /// Reads the host the options name. Prints a clear message and exits 3 when the input is unusable.
    func loadHost(options: ScanOptions = ScanOptions()) throws -> HostModel {
        if root.isEmpty {
            printError("vfio-inspect: --root needs a directory (use --root / for this host)")
            throw ExitCode(ExitStatus.usage)
        }
        if dump != nil, root != "/" {
            printError("warning: --dump given; --root \(root) is ignored")
        }
        do {
            return try scanHost(root: root, dump: dump, names: loadNames(pciIDs), options: options)
        } catch {
            printError("vfio-inspect: \(error)")
            throw ExitCode(ExitStatus.inputUnusable)
        }
    }
}

/// The pci.ids database `--pci-ids` names (libpci's default when `nil`); `nil`, with a warning on stderr, when it
/// cannot be read: names are then left out.
func loadNames(_ pciIDs: String?) -> PCIIDDatabase? {
    // libpci opens the file with a blocking read: a FIFO with no writer would hang it, a directory or a device
    // is no database. Only a regular file goes to libpci.
    if let pciIDs {
        var info = stat()
        guard stat(pciIDs, &info) == 0 else {
            printError("warning: the pci.ids database \(pciIDs) cannot be read (\(String(cString: strerror(errno)))); names are left out")
            return nil
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            printError("warning: \(pciIDs) is not a regular file (a directory, FIFO or device), so it is not read as a pci.ids database; names are left out")
            return nil
        }
    }
    do {
        let db = try PCIIDDatabase(path: pciIDs)
        if !db.isAvailable {
            if let pciIDs {
                printError("warning: the pci.ids database could not be read from \(pciIDs) (missing or not a pci.ids file); names are left out")
            } else {
                printError("warning: the pci.ids database could not be read; names are left out (install the pci.ids package)")
            }
        }
        return db.isAvailable ? db : nil
    } catch {
        printError("warning: \(error); names are left out")
        return nil
    }
}

/// Scans a sysfs root (a live host or a snapshot) or, when `dump` is given, an lspci hex dump.
func scanHost(root: String, dump: String?, names: PCIIDDatabase?, options: ScanOptions) throws -> HostModel {
    if let dump {
        return try DumpScanner(path: dump, names: names, options: options).scan()
    }
    return try SysfsScanner(root: HostRoot(root), names: names, options: options).scan()
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

/// When to colour text output.
public enum ColorMode: String, ExpressibleByArgument, CaseIterable, Sendable {
    case auto, always, never
}

/// Options that choose which functions a command covers: lspci's `-s` and `-d`.
public struct FunctionSelection: ParsableArguments {
    @Option(name: [.customShort("s"), .customLong("select")], help: ArgumentHelp("Only functions matching [[[[domain]:]bus]:][device][.[func]] (as lspci -s). Repeatable.", valueName: "SELECTOR"))
    public var select: [String] = []

    @Option(name: [.customShort("d"), .customLong("ids")], help: ArgumentHelp("Only functions with these IDs, [vendor]:[device][:class[:prog-if]] in hex (as lspci -d).", valueName: "VENDOR:DEVICE[:CLASS[:PROG-IF]]"))
    public var ids: String?

    public init() {}

    public var isEmpty: Bool { select.isEmpty && ids == nil }

    public func validate() throws {
        try validateSelectors(select)
        if let ids {
            do { _ = try IDFilter(parsing: ids) } catch { throw ValidationError(error.description) }
        }
    }

    /// The functions both options name, in address order; `nil` when neither is given. Exits 5 when `-s` or `-d`
    /// matches no function (`ExitStatus.selectorUnmatched`).
    func chosen(in model: HostModel, extra: [String] = []) throws -> [PCIAddress]? {
        guard !isEmpty || !extra.isEmpty else { return nil }
        let bySelector = (select + extra).isEmpty ? nil : Set(try selectedFunctions(select + extra, in: model, option: extra.isEmpty ? "-s " : ""))
        let filter = try ids.map { try IDFilter(parsing: $0) }
        let chosen = model.functions.filter { f in
            (bySelector?.contains(f.address) ?? true)
                && (filter?.matches(vendor: f.vendorID, device: f.deviceID, classCode: f.classCode) ?? true)
        }.map(\.address)
        if let ids, chosen.isEmpty {
            printError("vfio-inspect: -d \(ids) matches no function of \(model.source)\(bySelector == nil ? "" : " that the selectors name")")
            throw ExitCode(ExitStatus.selectorUnmatched)
        }
        return chosen
    }
}

extension UnitVerdict: ExpressibleByArgument {}

/// `--exit-status`: check's status for the worst of `verdicts`. Nothing to judge is never "ready": with
/// filters that leave no unit, 5 (as a selector that matches nothing); on an input without functions, 4.
/// `--verdict` that matched nothing exits 5 (as the help says of every filter), whether or not `--exit-status` is given.
func requireVerdictMatched(_ verdict: UnitVerdict?, matched: Bool) throws {
    guard let verdict, !matched else { return }
    printError("vfio-inspect: no unit has the verdict \(verdict.rawValue)")
    throw ExitCode(ExitStatus.selectorUnmatched)
}

func gateStatus(_ verdicts: [UnitVerdict], filtered: Bool) throws {
    guard !verdicts.isEmpty else {
        printError(filtered ? "vfio-inspect: no unit matches the filters; nothing to judge" : "vfio-inspect: the input has no unit to judge")
        throw ExitCode(filtered ? ExitStatus.selectorUnmatched : ExitStatus.undetermined)
    }
    let status = CheckLines.exitStatus(UnitVerdict.worst(verdicts))
    if status != 0 { throw ExitCode(status) }
}
