import CLibPCI
import CLibPCIShims
#if canImport(Glibc)
import Glibc
#endif

/// A failure libpci reported; its own message, and what we were asking it to do.
public struct LibPCIError: Error, Hashable, Sendable, CustomStringConvertible {
    public let operation: String
    public let message: String

    public init(operation: String, message: String) {
        self.operation = operation
        self.message = message
    }

    public var description: String { "libpci could not \(operation): \(message)" }
}

/// The owner of one `pci_access`. Set up in `init`, released in `deinit`; the pointer is
/// lent out only through `withAccess`. After libpci reports a fatal error the structure
/// may be half-built, so it is then leaked instead of cleaned up.
final class LibPCIAccess {
    private let pointer: UnsafeMutablePointer<pci_access>
    private var poisoned = false

    init() throws(LibPCIError) {
        guard let pointer = pci_alloc() else {
            throw LibPCIError(operation: "allocate its access structure", message: "out of memory")
        }
        self.pointer = pointer
        vi_install_handlers(pointer)
        // Names come from the local pci.ids only: no DNS, no cache file, no udev hwdb.
        pointer.pointee.id_lookup_mode = 0
        pointer.pointee.numeric_ids = 0
    }

    deinit {
        if !poisoned {
            pci_cleanup(pointer)
        }
    }

    /// Runs a guarded libpci call. The closure returns `nil` on success or libpci's message.
    func guarded<R>(_ operation: String, _ body: (UnsafeMutablePointer<pci_access>, UnsafeMutablePointer<CChar>, Int) -> R?) throws(LibPCIError) -> R {
        guard !poisoned else {
            throw LibPCIError(operation: operation, message: "an earlier libpci error left this access unusable")
        }
        var buffer = [CChar](repeating: 0, count: 512)
        let result = buffer.withUnsafeMutableBufferPointer { buf -> R? in
            guard let base = buf.baseAddress else { return nil }
            return body(pointer, base, buf.count)
        }
        guard let result else {
            poisoned = true
            let message = buffer.withUnsafeBufferPointer { buf in
                String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            throw LibPCIError(operation: operation, message: message.isEmpty ? "unknown error" : message)
        }
        return result
    }

    func setParameter(_ name: String, _ value: String) throws(LibPCIError) {
        let status = name.withCString { n in
            value.withCString { v in
                pci_set_param(pointer, UnsafeMutablePointer(mutating: n), UnsafeMutablePointer(mutating: v))
            }
        }
        if status != 0 {
            throw LibPCIError(operation: "set parameter \(name)", message: "this libpci has no such parameter")
        }
    }

    func setMethod(_ method: pci_access_type) {
        pointer.pointee.method = method.rawValue
    }

    /// The pci.ids file libpci reads names from (`id_file_name`: its compiled-in default, or the one set).
    var nameListPath: String? {
        pointer.pointee.id_file_name.map { String(cString: $0) }
    }

    func setNameListPath(_ path: String) {
        // libpci keeps the pointer; to_be_freed = 1 hands ownership of the strdup'd copy to it.
        path.withCString { p in
            pci_set_name_list_path(pointer, strdup(p), 1)
        }
    }

    func initialize() throws(LibPCIError) {
        try guarded("initialise its access method") { a, e, n in vi_init(a, e, n) == 0 ? () : nil }
    }

    func scanBus() throws(LibPCIError) {
        try guarded("scan the bus") { a, e, n in vi_scan_bus(a, e, n) == 0 ? () : nil }
    }

    /// The devices libpci found, as plain values. No `pci_dev*` leaves this file.
    func forEachDevice(_ body: (UnsafeMutablePointer<pci_dev>) throws(LibPCIError) -> Void) throws(LibPCIError) {
        var next = pointer.pointee.devices
        while let device = next {
            try body(device)
            next = device.pointee.next
        }
    }

    /// `pci_read_block`, guarded. `false` when libpci has no such bytes.
    func readBlock(_ device: UnsafeMutablePointer<pci_dev>, offset: Int, into buffer: inout [UInt8]) throws(LibPCIError) -> Bool {
        let count = buffer.count
        return try guarded("read config space") { _, e, n in
            var ok: Int32 = 0
            let status = buffer.withUnsafeMutableBufferPointer { buf in
                vi_read_block(device, Int32(offset), buf.baseAddress, Int32(count), &ok, e, n)
            }
            return status == 0 ? ok != 0 : nil
        }
    }

    func lookupName(flags: Int32, _ a1: Int32, _ a2: Int32 = 0, _ a3: Int32 = 0, _ a4: Int32 = 0) throws(LibPCIError) -> String? {
        var out = [CChar](repeating: 0, count: 256)
        let size = Int32(out.count)
        let found: Bool = try guarded("look up a name") { a, e, n in
            out.withUnsafeMutableBufferPointer { buf in
                vi_lookup_name(a, buf.baseAddress, size, flags, a1, a2, a3, a4, e, n) != nil
            }
        }
        guard found else { return nil }
        return out.withUnsafeBufferPointer { buf in
            String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
}
