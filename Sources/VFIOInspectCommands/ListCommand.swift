import ArgumentParser
import PCIHost
import VFIOReport

public struct ListCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "One line per PCI function: identity, driver, IOMMU group, multifunction and SR-IOV flags.")

    @OptionGroup public var global: GlobalOptions

    @Option(name: [.customShort("s"), .long], help: ArgumentHelp("Only functions matching [[[[domain]:]bus]:][device][.[func]] (as lspci -s). Repeatable.", valueName: "SELECTOR"))
    public var select: [String] = []

    @Option(name: [.customShort("d"), .long], help: ArgumentHelp("Only functions with these IDs, [vendor]:[device] in hex (as lspci -d).", valueName: "VENDOR:DEVICE"))
    public var ids: String?

    @Flag(name: .long, help: "Machine-readable JSON (schemaVersion 1).")
    public var json = false

    public init() {}

    public func validate() throws {
        for s in select {
            do { _ = try PCISelector(parsing: s) } catch { throw ValidationError(error.description) }
        }
        if let ids {
            do { _ = try IDFilter(parsing: ids) } catch { throw ValidationError(error.description) }
        }
    }

    public func run() throws {
        let model = try global.loadHost()
        let selected = select.isEmpty ? nil : Set(try selectedFunctions(select, in: model, option: "-s "))
        let filter = try ids.map { try IDFilter(parsing: $0) }
        let chosen = model.functions.filter { f in
            (selected?.contains(f.address) ?? true)
                && (filter?.matches(vendor: f.vendorID, device: f.deviceID, classCode: f.classCode) ?? true)
        }
        if let ids, filter != nil, chosen.isEmpty {
            printError("vfio-inspect: -d \(ids) matches no function of \(model.source)")
            throw ExitCode(ExitStatus.selectorUnmatched)
        }
        if json {
            print(try JSONOutput.render(DescribedListing(model, functions: chosen)), terminator: "")
        } else {
            print(ListText.render(model, functions: chosen), terminator: "")
            printHostDiagnostics(model)
        }
    }
}
