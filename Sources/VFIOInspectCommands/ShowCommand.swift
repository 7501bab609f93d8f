import ArgumentParser
import PCIHost
import VFIOReport

public struct ShowCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Everything config space and sysfs say about some functions: identity, position, driver and group, reset, interrupts, capabilities.")

    @OptionGroup public var global: GlobalOptions

    @Argument(help: ArgumentHelp("Functions to show, as lspci -s takes them (01:00.0, 01:00, 1f.3).", valueName: "SELECTOR"))
    public var selectors: [String] = []

    @OptionGroup public var selection: FunctionSelection

    @Flag(name: .customShort("v"), help: "More detail (-vv: all capability fields).")
    public var verbose: Int

    @Flag(name: .customShort("x"), help: "Hex dump: -x the 64-byte header, -xxx 256 bytes, -xxxx 4096 bytes.")
    public var hex: Int

    @Flag(name: .long, help: "Machine-readable JSON: the list function objects plus capabilities, acs, sriov, pcie, reset.")
    public var json = false

    public init() {}

    public func validate() throws {
        guard !selectors.isEmpty || !selection.isEmpty else { throw ValidationError("name at least one function (e.g. 01:00.0, -s 01:00.0 or -d 10de:)") }
        try validateSelectors(selectors)
    }

    public func run() throws {
        let model = try global.loadHost(options: ScanOptions(decodeCapabilities: true, resolveModules: true, resolveVFIOVariants: true))
        let chosen = try (selection.chosen(in: model, extra: selectors) ?? []).compactMap { model.function($0) }
        if json {
            try JSONOutput.write(DescribedShow(model, functions: chosen))
            return
        }
        let dumpLength = hex == 0 ? 0 : hex == 1 ? 64 : hex <= 3 ? 256 : 4096
        var first = true
        for f in chosen {
            var bytes: [UInt8]?
            if dumpLength > 0 {
                do {
                    bytes = try global.configBytes(of: f, count: dumpLength)
                } catch {
                    printError("note: \(f.address): config space not readable for the dump: \(error)")
                }
            }
            if !first { print("") }
            first = false
            printText(ShowText.render(f, model: model, verbosity: verbose, hexDump: bytes))
        }
    }
}
