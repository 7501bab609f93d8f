import CLibPCI

/// Names from the pci.ids database, looked up by libpci as lspci does.
///
/// Only the local file is consulted (no DNS, no udev hwdb), so the same IDs give
/// the same names on every machine with the same pci.ids.
///
/// Each name is looked up once: later asks for the same IDs return the same string (one copy of "Intel
/// Corporation" for a host's thousands of Intel functions, not one each).
public final class PCIIDDatabase {
    private let access: LibPCIAccess
    private var failed = false
    /// Names already looked up, by lookup mode and the four IDs (16 bits each); `nil` values are misses.
    private var looked: [Key: String?] = [:]

    private struct Key: Hashable {
        let mode: Int32
        let ids: UInt64
    }

    /// - Parameter path: a pci.ids file; `nil` uses libpci's compiled-in default.
    public init(path: String? = nil) throws(LibPCIError) {
        access = try LibPCIAccess()
        if let path {
            access.setNameListPath(path)
        }
    }

    private func lookup(_ flags: pci_lookup_mode, _ a1: Int32, _ a2: Int32 = 0, _ a3: Int32 = 0, _ a4: Int32 = 0) -> String? {
        guard !failed else { return nil }
        let mode = Int32(bitPattern: flags.rawValue | PCI_LOOKUP_NO_NUMBERS.rawValue | PCI_LOOKUP_NO_HWDB.rawValue)
        // Every ID passed is 16 bits or narrower (a class is base << 8 | sub; a prog-if is 8 bits).
        let key = Key(mode: mode, ids: UInt64(UInt16(truncatingIfNeeded: a1)) | UInt64(UInt16(truncatingIfNeeded: a2)) << 16
                                   | UInt64(UInt16(truncatingIfNeeded: a3)) << 32 | UInt64(UInt16(truncatingIfNeeded: a4)) << 48)
        if let name = looked[key] { return name }
        do {
            let name = try access.lookupName(flags: mode, a1, a2, a3, a4)
            looked[key] = name
            return name
        } catch {
            failed = true
            return nil
        }
    }

    public func vendor(_ vendorID: UInt16) -> String? {
        lookup(PCI_LOOKUP_VENDOR, Int32(vendorID))
    }

    public func device(vendor vendorID: UInt16, device deviceID: UInt16) -> String? {
        lookup(PCI_LOOKUP_DEVICE, Int32(vendorID), Int32(deviceID))
    }

    public func subsystem(vendor: UInt16, device: UInt16, subsystemVendor: UInt16, subsystemDevice: UInt16) -> String? {
        let flags = pci_lookup_mode(PCI_LOOKUP_SUBSYSTEM.rawValue | PCI_LOOKUP_DEVICE.rawValue)
        return lookup(flags, Int32(vendor), Int32(device), Int32(subsystemVendor), Int32(subsystemDevice))
    }

    public func subsystemVendor(_ subsystemVendor: UInt16) -> String? {
        let flags = pci_lookup_mode(PCI_LOOKUP_SUBSYSTEM.rawValue | PCI_LOOKUP_VENDOR.rawValue)
        return lookup(flags, Int32(subsystemVendor))
    }

    /// `deviceClass` is base class << 8 | subclass.
    public func deviceClass(_ deviceClass: UInt16) -> String? {
        lookup(PCI_LOOKUP_CLASS, Int32(deviceClass))
    }

    public func programmingInterface(deviceClass: UInt16, progIf: UInt8) -> String? {
        lookup(PCI_LOOKUP_PROGIF, Int32(deviceClass), Int32(progIf))
    }

    /// The pci.ids file the names come from (libpci's `id_file_name`).
    public var filePath: String? { access.nameListPath }

    /// Whether the database could be loaded at all (false: pci.ids missing or unreadable).
    public var isAvailable: Bool {
        guard !failed else { return false }
        return lookup(PCI_LOOKUP_CLASS, 0x0600) != nil
    }
}
