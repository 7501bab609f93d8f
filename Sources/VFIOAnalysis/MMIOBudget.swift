import PCIHost

/// The 64-bit MMIO a unit asks of the guest's firmware, against the windows the usual guest firmware opens.
///
/// Sources: QEMU hw/pci-host/q35.c (`Q35_PCI_HOST_HOLE64_SIZE_DEFAULT` 32 GiB, a minimum: the ACPI window also
/// covers what the firmware placed above it); edk2 OvmfPkg (`PcdPciMmio64Size` 32 GiB; since edk2-stable202211
/// `PlatformDynamicMmioWindow` opens 1/8 of the guest's physical address space when OVMF trusts its phys-bits,
/// which it does not for QEMU's default of 40 bits on Intel; `opt/ovmf/X-PciMmio64Mb` raises the minimum, in MiB);
/// SeaBIOS sizes its 64-bit window to the BARs; OVMF places BARs largest first, each aligned to its size, so
/// power-of-two BARs need exactly their sum.
public struct MMIOBudget: Hashable, Sendable {
    /// One 64-bit memory BAR: its function, index, current size and the largest size Resizable BAR allows.
    public struct BARSize: Hashable, Sendable {
        public let function: PCIAddress
        public let index: Int
        public let size: UInt64
        public let largest: UInt64
        public let prefetchable: Bool
    }

    public let bars: [BARSize]
    /// Endpoints whose BAR sizes the input does not hold (a dump): the budget is then a lower bound.
    public let unsized: [PCIAddress]
    /// Functions with 64-bit BARs whose Resizable BAR capability the input cannot show (extended config space
    /// unreadable: a 256-byte dump, a non-root reader, lspci text without the capability's lines): how far a guest's
    /// driver may grow them is unknown.
    public var resizeUnknown: [PCIAddress] = []

    /// Bytes of 64-bit BARs at their current sizes.
    public var total: UInt64 { bars.reduce(0) { a, b in a.addingReportingOverflow(b.size).overflow ? .max : a + b.size } }
    /// Bytes if every resizable BAR took its largest size (a guest driver may resize it when the window allows).
    public var totalResized: UInt64 { bars.reduce(0) { a, b in a.addingReportingOverflow(max(b.size, b.largest)).overflow ? .max : a + max(b.size, b.largest) } }

    /// QEMU q35's default `pci-hole64-size` and OVMF's classic 64-bit aperture: 32 GiB each.
    public static let classicWindow: UInt64 = 32 << 30

    /// The 64-bit BARs of `members` (indexes 0–5 of sysfs `resource`, 64-bit memory, non-zero), with Resizable BAR's
    /// largest supported size where the capability is decoded.
    public static func of(_ members: [PCIFunction]) -> MMIOBudget {
        var bars: [BARSize] = []
        var unsized: [PCIAddress] = []
        for f in members {
            guard f.resourcesRead else { unsized.append(f.address); continue }
            let rebar = f.config?.extendedCapabilities.lazy.compactMap { c -> ResizableBAR? in
                if case let .resizableBAR(r) = c.body { return r } else { return nil }
            }.first
            for r in f.resources where r.index < 6 && r.needs64Bit && r.size > 0 && r.flags & 0x200 != 0 {
                var largest = r.size
                if let entry = rebar?.entries.first(where: { $0.barIndex == r.index }), entry.supportedSizes != 0 {
                    let top = 63 - entry.supportedSizes.leadingZeroBitCount
                    largest = max(r.size, UInt64(1) << UInt64(min(63, top + 20)))
                }
                bars.append(BARSize(function: f.address, index: r.index, size: r.size, largest: largest, prefetchable: r.prefetchable))
            }
        }
        let resizeUnknown = Set(bars.map(\.function)).filter { a in
            guard let f = members.first(where: { $0.address == a }) else { return false }
            return f.capabilitiesUnknown != nil || (f.config?.pciExpress != nil && f.config?.extendedCoverage == .unreadable)
        }.sorted()
        var budget = MMIOBudget(bars: bars, unsized: unsized)
        budget.resizeUnknown = resizeUnknown
        return budget
    }

    /// The 64-bit window to give the guest for `bytes`: the power of two above it (room for the BARs' natural
    /// alignment and the rest of the guest's 64-bit BARs), at least 64 GiB (MiB, GiB).
    public static func window(for bytes: UInt64) -> (mib: UInt64, gib: UInt64) {
        var w: UInt64 = 64 << 30
        while w <= bytes && w < (1 << 62) { w <<= 1 }
        return (w >> 20, w >> 30)
    }

    static func gib(_ b: UInt64) -> String {
        b >= 1 << 30 ? "\(b >> 30) GiB" : b >= 1 << 20 ? "\(b >> 20) MiB" : "\(b >> 10) KiB"
    }

    /// The unit's `mmio-window` finding: INFO when its 64-bit BARs fit the 32 GiB classic window; a caution naming
    /// the knobs when they do not (the host is fine, the VM needs a larger window); FAIL when even half the host's
    /// physical address space (`/proc/cpuinfo` address sizes) cannot hold them.
    public static func findings(_ members: [PCIFunction], _ model: HostModel) -> [Finding] {
        let budget = of(members)
        guard !budget.bars.isEmpty else { return [] }
        let addresses = Array(Set(budget.bars.map(\.function))).sorted()
        var evidence = budget.bars.map { b in
            "\(b.function) BAR \(b.index): \(gib(b.size)) 64-bit" + (b.prefetchable ? " prefetchable" : "") + (b.largest > b.size ? " (Resizable BAR up to \(gib(b.largest)))" : "")
        }
        if !budget.unsized.isEmpty { evidence.append("BAR sizes unknown for \(budget.unsized.map(\.description).joined(separator: ", ")) (a dump): the sum is a lower bound") }
        let need = max(budget.total, budget.totalResized)
        let bits = model.environment.physicalAddressBits
        if let e = bits.evidence { evidence.append(e) }
        if let b = bits.value, b <= 63, need > UInt64(1) << UInt64(b - 1) {
            return [Finding(.mmioBudget, .fail,
                "The unit's 64-bit BARs need \(gib(need)), more than half of this host's \(b)-bit physical address space: no guest window on this host can map them.",
                functions: addresses, evidence: evidence, fix: "assign fewer devices per guest, or shrink the resizable BARs (their resource*_resize files) before assigning")]
        }
        if bits.value == nil, need > classicWindow {
            // The smallest physical width x86 CPUs have is 36 bits: beyond half of that, whether the host can map it
            // at all depends on the width the input does not show.
            return [.unknown(.mmioBudget, "Whether this host can map the unit's \(gib(need)) of 64-bit BARs in a guest is unknown: that depends on its physical address width.",
                             functions: addresses, Unknown(bits.unknown?.reason ?? "the host's physical address width is unknown", remedy: "read proc/cpuinfo of the host (a snapshot made by this version has it)"))]
                + largeFinding(budget, need: need, addresses: addresses, evidence: evidence, bits: bits)
        }
        if need <= classicWindow, !budget.unsized.isEmpty || !budget.resizeUnknown.isEmpty {
            // Fitting at the sizes known is no answer when some sizes, or how far they may grow, are not known.
            let who = (budget.unsized + budget.resizeUnknown).map(\.description).joined(separator: ", ")
            return [.unknown(.mmioBudget, "The unit's known 64-bit BARs (\(gib(need))) fit the 32 GiB window QEMU q35 and OVMF open by default, but the BAR sizes or Resizable BAR limits of \(who) are not in the input.",
                             functions: addresses, Unknown("the input does not show all of the unit's BAR sizes and Resizable BAR capabilities", remedy: "read the host's sysfs as root (resource files, and config space beyond 256 bytes)"))]
        }
        if need <= classicWindow {
            return [Finding(.mmioBudget, .info,
                "The unit's 64-bit BARs (\(gib(budget.total))\(budget.totalResized > budget.total ? ", \(gib(budget.totalResized)) if resized" : "")) fit QEMU q35's default 32 GiB pci-hole64 and OVMF's classic 32 GiB aperture.",
                functions: addresses, evidence: evidence)]
        }
        return largeFinding(budget, need: need, addresses: addresses, evidence: evidence, bits: bits)
    }

    static func largeFinding(_ budget: MMIOBudget, need: UInt64, addresses: [PCIAddress], evidence: [String], bits: Fact<Int>) -> [Finding] {
        let (mib, gibs) = window(for: need)
        let dynamic = bits.value.map { b in " With host-phys-bits OVMF (edk2-stable202211+) opens 1/8 of the address space, \(gib(UInt64(1) << UInt64(max(0, b - 3))))\(UInt64(1) << UInt64(max(0, b - 3)) >= need ? ", which holds them" : ", which does not hold them: set X-PciMmio64Mb")." } ?? " The host's address width is unknown (\(bits.unknown?.reason ?? "")): whether host-phys-bits alone opens enough is unknown."
        return [Finding(.mmioBudgetLarge, .warn,
            "The unit's 64-bit BARs need \(gib(need))\(budget.totalResized > budget.total ? " (\(gib(budget.total)) now, \(gib(budget.totalResized)) if the guest's driver resizes them)" : ""): more than the 32 GiB window QEMU q35 and OVMF open by default (the guest sees the device, its driver fails to map it).\(dynamic) SeaBIOS sizes its 64-bit window to the BARs; a pseries guest has 1 TiB per vPHB (QEMU 2.8+).",
            functions: addresses, evidence: evidence,
            fix: "give the guest a \(gibs) GiB 64-bit window: -cpu host,host-phys-bits=on (libvirt <maxphysaddr mode='passthrough'/>, 8.7+), -fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=\(mib) (libvirt <sysinfo type='fwcfg'>), -global q35-pcihost.pci-hole64-size=\(gibs)G (libvirt <pcihole64>); plan emits them")]
    }
}
