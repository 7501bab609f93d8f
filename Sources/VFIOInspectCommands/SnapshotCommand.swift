import ArgumentParser
import PCIHost
#if canImport(Glibc)
import Glibc
#endif

public struct SnapshotCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Copy what vfio-inspect reads of this host (or of --root) into OUTDIR; `--root OUTDIR` then reads it as the host.",
        discussion: "Reads only. Never follows a link out of the source root; never reads resourceN, rom or vpd. Writes only below OUTDIR.")

    @Option(name: .long, help: ArgumentHelp("The host to capture: / (default) or another root.", valueName: "DIR"), completion: .directory)
    public var root: String = "/"

    @Argument(help: ArgumentHelp("Where to write the snapshot; must not exist yet, or be an empty directory.", valueName: "OUTDIR"))
    public var outdir: String

    @Flag(name: .long, help: "List every file that was passed over, and why.")
    public var verbose = false

    public init() {}

    public func run() throws {
        let summary: SnapshotSummary
        do {
            let writer = SnapshotWriter(source: HostRoot(root), destination: outdir)
            // Progress only for a person watching: on a terminal, and at most about a hundred updates.
            let onTerminal = isatty(2) != 0
            if onTerminal {
                writer.progress = { done, total in
                    guard done == total || done % max(1, total / 100) == 0 else { return }
                    var stream = StandardError()
                    print("\rcopying functions: \(done)/\(total)", terminator: done == total ? "\n" : "", to: &stream)
                }
            }
            summary = try writer.write()
        } catch {
            printError("vfio-inspect: \(error)")
            throw ExitCode(ExitStatus.inputUnusable)
        }
        print("captured \(summary.functions) functions into \(outdir): \(summary.files) files, \(summary.links) links")
        if let why = summary.processTableOmitted {
            printError("warning: the process table was left out: \(why); whether a VM holds a VFIO group open will be unknown in the snapshot (run snapshot as root)")
        }
        if !summary.limitedConfig.isEmpty {
            printError("warning: config space of \(summary.limitedConfig.count) function(s) was only partly readable (e.g. \(summary.limitedConfig[0])): run snapshot as root, or capabilities, ACS and reset facts will be unknown in the snapshot")
        }
        if !summary.skipped.isEmpty {
            print("passed over \(summary.skipped.count) entries\(verbose ? ":" : " (--verbose lists them)")")
            if verbose {
                for d in summary.skipped { print("  \(d.message)") }
            }
        }
        print("analyse it with: vfio-inspect list --root \(outdir)")
    }
}
