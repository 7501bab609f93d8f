import ArgumentParser
import PCIHost
import VFIOAnalysis
import VFIOReport

public struct PlanCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Guest placement for a unit: libvirt XML, QEMU arguments or a virsh hotplug script that keep the multifunction and function-0 rules.",
        discussion: """
            The selection is expanded to whole IOMMU groups; group endpoints not selected (and --hide ones) are detached \
            from the host but not shown to the guest. Exit 0 planned, 1 planned with warnings or preparation, \
            2 refused (blocked, or function 0 missing on q35), 3 input unreadable, 4 planned but undetermined \
            (a fact that decides readiness is not in the input), 5 a selector matched nothing.
            """)

    public enum Format: String, ExpressibleByArgument, CaseIterable, Sendable {
        case libvirt, qemu
        case virshHotplug = "virsh-hotplug"
        case persist
    }

    @OptionGroup public var global: GlobalOptions

    @Argument(help: ArgumentHelp("The functions the guest gets, as lspci -s takes them.", valueName: "SELECTOR"))
    public var selectors: [String]

    @Option(name: .long, help: "libvirt (domain XML), qemu (command-line arguments), virsh-hotplug (a script) or persist (a script that keeps the unit on VFIO across reboots).")
    public var format: Format = .libvirt

    @Option(name: .long, help: "q35 (a pcie-root-port per guest slot) or pseries (a vPHB per IOMMU group).", completion: .list(GuestMachine.allCases.map(\.rawValue)))
    public var machine: String = "q35"

    @Option(name: .long, help: ArgumentHelp("A group member the guest must not see (still detached from the host). Repeatable.", valueName: "SELECTOR"))
    public var hide: [String] = []

    @Option(name: .customLong("first-index"), parsing: .unconditional, help: "The first guest PCI controller index the plan uses (above the domain's own).")
    public var firstIndex: Int = 1

    @Option(name: .long, help: "container (each group's /dev/vfio/N, the default) or iommufd (/dev/iommu with the device cdevs; QEMU 8.2+, libvirt 12.1+, Linux 6.6+).",
            completion: .list(VFIOBackend.allCases.map(\.rawValue)))
    var backend: String = VFIOBackend.container.rawValue

    @Flag(name: .customLong("with-related"), help: "Also take the functions of the same device that sit in other IOMMU groups (a GPU's USB-C and UCSI functions, a card's other ports), with their groups.")
    var withRelated = false

    @Flag(name: .long, help: "Plan a unit that check calls blocked.")
    public var force = false

    @Flag(name: .customLong("allow-missing-function0"), help: "q35: place functions without function 0 anyway (an x86 guest will not see them; only guests that probe every function do).")
    public var allowMissingFunction0 = false

    @Flag(name: .long, help: "The plan as data (guest slots, functions, controllers, hotplug order).")
    public var json = false

    public init() {}

    public func validate() throws {
        guard !selectors.isEmpty else { throw ValidationError("name the functions the guest gets (e.g. 01:00.0)") }
        try validateSelectors(selectors + hide)
        guard GuestMachine(rawValue: machine) != nil else { throw ValidationError("--machine must be q35 or pseries, not '\(machine)'") }
        guard VFIOBackend(rawValue: backend) != nil else { throw ValidationError("--backend must be container or iommufd, not '\(TerminalSafe.escape(backend))'") }
        guard (1...254).contains(firstIndex) else { throw ValidationError("--first-index must be 1–254 (0 is the guest's root bus), not \(firstIndex)") }
    }

    public func run() throws {
        let model = try global.loadHost(options: ScanOptions(decodeCapabilities: true, resolveVFIOVariants: true))
        var chosen = try selectedFunctions(selectors, in: model)
        if withRelated {
            // The related functions of the unit the selection makes, and (through their groups) their units.
            let unit = Reporter.check(model, selected: chosen).unit
            let related = RelatedFunctions.related(to: unit, model).map(\.address).filter { model.function($0) != nil && !chosen.contains($0) }
            chosen += related
        }
        let hidden = try selectedFunctions(hide, in: model, option: "--hide ")
        var options = PlanOptions(machine: GuestMachine(rawValue: machine) ?? .q35, hidden: hidden, force: force,
                                  allowMissingFunction0: allowMissingFunction0, firstControllerIndex: firstIndex)
        options.backend = VFIOBackend(rawValue: backend) ?? .container
        let plan = Planner.plan(model, selected: chosen, options: options)
        printHostDiagnostics(model)
        let status = PlanRender.exitStatus(plan)
        if json {
            try JSONOutput.write(DescribedPlan(plan, model))
        } else if plan.isRefused {
            var stream = StandardError()
            print(PlanRender.refusalText(plan, style: Style(color: false)), terminator: "", to: &stream)
        } else {
            switch format {
            case .libvirt: printText(PlanRender.libvirt(plan, model))
            case .qemu: printText(PlanRender.qemu(plan, model))
            case .virshHotplug: printText(PlanRender.virshHotplug(plan, model))
            case .persist: printText(PlanRender.persist(plan, model))
            }
        }
        if status != 0 { throw ExitCode(status) }
    }
}
