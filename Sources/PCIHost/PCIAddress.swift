import PCIConfigSpace

/// A function's address: domain, bus, device (slot), function. Prints as `0000:00:1f.3`.
public struct PCIAddress: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    public let domain: UInt32
    public let bus: UInt8
    public let device: UInt8
    public let function: UInt8

    public init(domain: UInt32 = 0, bus: UInt8, device: UInt8, function: UInt8) {
        self.domain = domain
        self.bus = bus
        self.device = device & 0x1f
        self.function = function & 0x07
    }

    /// Parses the kernel's spelling, `DDDD:BB:DD.F` (the domain may have more than four digits).
    public init?(sysfsName: some StringProtocol) {
        // The usual spelling, `DDDD:BB:DD.F` (12 bytes), parsed byte by byte; anything else by the general rule below.
        if let parsed = sysfsName.utf8.withContiguousStorageIfAvailable({ Self.parseShort($0) }), let known = parsed {
            guard let address = known else { return nil }
            self = address
            return
        }
        let parts = sysfsName.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3,
              let domain = UInt32(parts[0], radix: 16), parts[0].count >= 4,
              parts[1].count == 2, let bus = UInt8(parts[1], radix: 16)
        else { return nil }
        let devfn = parts[2].split(separator: ".", omittingEmptySubsequences: false)
        guard devfn.count == 2, devfn[0].count == 2, devfn[1].count == 1,
              let device = UInt8(devfn[0], radix: 16), device < 32,
              let function = UInt8(devfn[1], radix: 16), function < 8
        else { return nil }
        self.init(domain: domain, bus: bus, device: device, function: function)
    }

    /// `DDDD:BB:DD.F` from its 12 bytes: `nil` when not 12 bytes (the general rule decides), `.some(nil)` when
    /// 12 bytes that are not an address.
    static func parseShort(_ u: UnsafeBufferPointer<UInt8>) -> PCIAddress?? {
        guard u.count == 12 else { return nil }
        guard u[4] == UInt8(ascii: ":"), u[7] == UInt8(ascii: ":"), u[10] == UInt8(ascii: "."),
              let d0 = hexDigitValue(u[0]), let d1 = hexDigitValue(u[1]), let d2 = hexDigitValue(u[2]), let d3 = hexDigitValue(u[3]),
              let b0 = hexDigitValue(u[5]), let b1 = hexDigitValue(u[6]), let s0 = hexDigitValue(u[8]), let s1 = hexDigitValue(u[9]),
              let f = hexDigitValue(u[11]), s0 << 4 | s1 < 32, f < 8 else { return .some(nil) }
        let domain = UInt32(d0) << 12 | UInt32(d1) << 8 | UInt32(d2) << 4 | UInt32(d3)
        return PCIAddress(domain: domain, bus: b0 << 4 | b1, device: s0 << 4 | s1, function: f)
    }

    public var slot: PCISlotAddress { PCISlotAddress(domain: domain, bus: bus, device: device) }

    public var description: String {
        guard domain <= 0xffff else {
            return "\(hex(domain, 4)):\(hex(bus, 2)):\(hex(device, 2)).\(String(function, radix: 16))"
        }
        // `DDDD:BB:DD.F`, 12 bytes written in place (addresses are printed for every function of every listing).
        let digits: StaticString = "0123456789abcdef"
        let d = digits.utf8Start
        let (domain, bus, device, function) = (Int(domain), Int(bus), Int(device), Int(function))
        return String(unsafeUninitializedCapacity: 12) { b in
            b[0] = d[domain >> 12 & 0xf]; b[1] = d[domain >> 8 & 0xf]; b[2] = d[domain >> 4 & 0xf]; b[3] = d[domain & 0xf]
            b[4] = UInt8(ascii: ":"); b[5] = d[bus >> 4]; b[6] = d[bus & 0xf]; b[7] = UInt8(ascii: ":")
            b[8] = d[device >> 4]; b[9] = d[device & 0xf]; b[10] = UInt8(ascii: "."); b[11] = d[function & 0xf]
            return 12
        }
    }

    /// Without the domain, as lspci prints addresses in domain 0.
    public var shortDescription: String {
        "\(hex(bus, 2)):\(hex(device, 2)).\(String(function, radix: 16))"
    }

    public static func < (a: Self, b: Self) -> Bool {
        (a.domain, a.bus, a.device, a.function) < (b.domain, b.bus, b.device, b.function)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let address = PCIAddress(sysfsName: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a PCI address: \(text)"))
        }
        self = address
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A slot: domain, bus, device. The unit the multifunction and function-0 rules speak of.
public struct PCISlotAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let domain: UInt32
    public let bus: UInt8
    public let device: UInt8

    public var description: String { "\(hex(domain, 4)):\(hex(bus, 2)):\(hex(device, 2))" }

    public static func < (a: Self, b: Self) -> Bool {
        (a.domain, a.bus, a.device) < (b.domain, b.bus, b.device)
    }
}
