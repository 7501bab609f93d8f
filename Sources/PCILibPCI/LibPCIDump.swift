import CLibPCI

/// One function as libpci's dump method holds it: its address and the bytes the dump gave.
public struct DumpedFunction: Hashable, Sendable {
    public let domain: UInt32
    public let bus: UInt8
    public let device: UInt8
    public let function: UInt8
    /// Config bytes from offset 0, as many as the dump contained (64, 256 or 4096 typically).
    public let config: [UInt8]

    public init(domain: UInt32, bus: UInt8, device: UInt8, function: UInt8, config: [UInt8]) {
        self.domain = domain
        self.bus = bus
        self.device = device
        self.function = function
        self.config = config
    }
}

/// Reads `lspci -x`, `-xxx` and `-xxxx` hex dumps with libpci's own dump parser (`lspci -F`).
public enum LibPCIDump {
    public static func read(path: String) throws(LibPCIError) -> [DumpedFunction] {
        let access = try LibPCIAccess()
        access.setMethod(PCI_ACCESS_DUMP)
        try access.setParameter("dump.name", path)
        try access.initialize()
        try access.scanBus()
        var functions: [DumpedFunction] = []
        try access.forEachDevice { device throws(LibPCIError) in
            let length = try readableLength(access, device)
            var bytes = [UInt8](repeating: 0xff, count: length)
            if length > 0 {
                _ = try access.readBlock(device, offset: 0, into: &bytes)
            }
            let d = device.pointee
            functions.append(DumpedFunction(
                domain: UInt32(truncatingIfNeeded: d.domain),
                bus: d.bus, device: d.dev, function: d.func,
                config: bytes))
        }
        // libpci links devices in reverse order of reading; keep the file's order.
        return functions.reversed()
    }

    /// The dump method answers a block read only if every byte is present, so the
    /// present length is the largest prefix it answers (binary search, 13 reads at most).
    private static func readableLength(_ access: LibPCIAccess, _ device: UnsafeMutablePointer<pci_dev>) throws(LibPCIError) -> Int {
        var low = 0
        var high = 4096
        while low < high {
            let mid = (low + high + 1) / 2
            var probe = [UInt8](repeating: 0, count: mid)
            if try access.readBlock(device, offset: 0, into: &probe) {
                low = mid
            } else {
                high = mid - 1
            }
        }
        return low
    }
}
