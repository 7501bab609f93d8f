/// The first 64 bytes every function implements (PCI Local Bus 3.0 §6.1; `pci_regs.h`).
public enum HeaderOffset {
    /// `PCI_VENDOR_ID`
    public static let vendorID = 0x00
    /// `PCI_DEVICE_ID`
    public static let deviceID = 0x02
    /// `PCI_COMMAND`
    public static let command = 0x04
    /// `PCI_STATUS`
    public static let status = 0x06
    /// `PCI_CLASS_REVISION`: revision at 0x08, prog-if 0x09, subclass 0x0a, base class 0x0b.
    public static let revisionID = 0x08
    /// `PCI_HEADER_TYPE`: layout in bits 0–6, multifunction in bit 7.
    public static let headerType = 0x0e
    /// `PCI_BASE_ADDRESS_0`
    public static let bar0 = 0x10
    /// `PCI_PRIMARY_BUS` (type 1)
    public static let primaryBus = 0x18
    /// `PCI_SECONDARY_BUS` (type 1)
    public static let secondaryBus = 0x19
    /// `PCI_SUBORDINATE_BUS` (type 1)
    public static let subordinateBus = 0x1a
    /// `PCI_SUBSYSTEM_VENDOR_ID` (type 0)
    public static let subsystemVendorID = 0x2c
    /// `PCI_SUBSYSTEM_ID` (type 0)
    public static let subsystemID = 0x2e
    /// `PCI_CAPABILITY_LIST`
    public static let capabilitiesPointer = 0x34
    /// `PCI_CB_CAPABILITY_LIST` (type 2)
    public static let cardBusCapabilitiesPointer = 0x14
    /// `PCI_INTERRUPT_LINE`
    public static let interruptLine = 0x3c
    /// `PCI_INTERRUPT_PIN`
    public static let interruptPin = 0x3d
    /// Bytes in the standard header.
    public static let size = 64
}

/// The header layout, bits 0–6 of the header type register. Open: reserved values keep their number.
public struct HeaderLayout: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0x7f }

    /// `PCI_HEADER_TYPE_NORMAL`
    public static let endpoint = Self(rawValue: 0)
    /// `PCI_HEADER_TYPE_BRIDGE`
    public static let bridge = Self(rawValue: 1)
    /// `PCI_HEADER_TYPE_CARDBUS`
    public static let cardBus = Self(rawValue: 2)

    public var description: String {
        switch self {
        case .endpoint: "endpoint (type 0)"
        case .bridge: "PCI-to-PCI bridge (type 1)"
        case .cardBus: "CardBus bridge (type 2)"
        default: "reserved type \(rawValue)"
        }
    }
}

/// A 24-bit class code: base class, subclass, programming interface.
public struct ClassCode: RawRepresentable, Hashable, Sendable, Comparable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue & 0xff_ffff }
    public init(base: UInt8, sub: UInt8, progIf: UInt8) {
        self.rawValue = UInt32(base) << 16 | UInt32(sub) << 8 | UInt32(progIf)
    }

    public var baseClass: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 16) }
    public var subclass: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 8) }
    public var programmingInterface: UInt8 { UInt8(truncatingIfNeeded: rawValue) }
    /// Base class and subclass, as lspci prints in brackets (`[0604]`).
    public var deviceClass: UInt16 { UInt16(truncatingIfNeeded: rawValue >> 8) }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    /// `PCI_CLASS_BRIDGE_PCI` (0x0604)
    public var isPCIBridge: Bool { deviceClass == 0x0604 }
    /// `PCI_CLASS_BRIDGE_HOST` (0x0600)
    public var isHostBridge: Bool { deviceClass == 0x0600 }
    /// `PCI_CLASS_DISPLAY_VGA` (0x0300)
    public var isVGA: Bool { deviceClass == 0x0300 }
}

/// Something worth telling that is not a verdict: a file that could not be read, a chain that looped,
/// an inconsistency between sources. Recorded, never fatal to the rest. The one diagnostic type of
/// every layer (decoding, the host scan, snapshots).
public struct Diagnostic: Hashable, Sendable, Codable, CustomStringConvertible {
    /// A stable kebab-case code (`config-limited`, `link-loop`).
    public let code: String
    public let message: String

    /// The message quotes names and values from the input: control characters in it are escaped (`TerminalSafe`).
    public init(code: String, message: String) {
        self.code = code
        self.message = TerminalSafe.escape(message)
    }

    public var description: String { "\(code): \(message)" }
}

/// The standard header of one function, decoded from whatever bytes were readable.
public struct ConfigHeader: Hashable, Sendable {
    public let vendorID: UInt16
    public let deviceID: UInt16
    public let command: UInt16
    public let status: UInt16
    public let revision: UInt8
    public let classCode: ClassCode
    public let headerTypeRegister: UInt8
    /// Type 0: subsystem IDs at 0x2c (a bridge carries them in a capability instead).
    public let subsystemVendorID: UInt16?
    public let subsystemID: UInt16?
    public let capabilitiesPointer: UInt8?
    public let interruptPin: UInt8
    public let interruptLine: UInt8
    /// Type 1 only.
    public let busNumbers: BridgeBusNumbers?

    public var layout: HeaderLayout { HeaderLayout(rawValue: headerTypeRegister) }
    /// Bit 7 of the header type register (`PCI_HEADER_TYPE_MFD`).
    public var multifunction: Bool { headerTypeRegister & 0x80 != 0 }
    /// Status bit 4 (`PCI_STATUS_CAP_LIST`).
    public var hasCapabilityList: Bool { status & 0x0010 != 0 }
    /// Command bit 10 (`PCI_COMMAND_INTX_DISABLE`).
    public var intxDisabled: Bool { command & 0x0400 != 0 }
    /// Status bit 3 (`PCI_STATUS_INTERRUPT`).
    public var intxPending: Bool { status & 0x0008 != 0 }

    /// All ones in the ID register: nothing answered (absent, powered off, or a VF's ID registers).
    public var idsReadAllOnes: Bool { vendorID == 0xffff && deviceID == 0xffff }
}

public struct BridgeBusNumbers: Hashable, Sendable {
    public let primary: UInt8
    public let secondary: UInt8
    public let subordinate: UInt8

    public init(primary: UInt8, secondary: UInt8, subordinate: UInt8) {
        self.primary = primary
        self.secondary = secondary
        self.subordinate = subordinate
    }

    /// Whether `bus` lies in this bridge's decoded range.
    public func routes(bus: UInt8) -> Bool {
        secondary != 0 && secondary <= subordinate && bus >= secondary && bus <= subordinate
    }
}

public enum HeaderDecodeError: Error, Hashable, Sendable {
    /// Fewer than 64 bytes were readable.
    case truncated(readable: Int)
}

extension ConfigHeader {
    /// Decodes the standard header. Needs the first 64 bytes; reads nothing else (a CardBus header's subsystem
    /// IDs, at 0x40, when they are readable).
    public init(from source: some ConfigSource) throws(HeaderDecodeError) {
        guard let b = source.bytes(at: 0, count: HeaderOffset.size), b.count == HeaderOffset.size else {
            throw .truncated(readable: source.readableCount)
        }
        func u16(_ o: Int) -> UInt16 { UInt16(b[o]) | UInt16(b[o + 1]) << 8 }
        vendorID = u16(HeaderOffset.vendorID)
        deviceID = u16(HeaderOffset.deviceID)
        command = u16(HeaderOffset.command)
        status = u16(HeaderOffset.status)
        revision = b[HeaderOffset.revisionID]
        classCode = ClassCode(base: b[0x0b], sub: b[0x0a], progIf: b[0x09])
        headerTypeRegister = b[HeaderOffset.headerType]
        interruptLine = b[HeaderOffset.interruptLine]
        interruptPin = b[HeaderOffset.interruptPin]
        let layout = HeaderLayout(rawValue: headerTypeRegister)
        switch layout {
        case .endpoint:
            subsystemVendorID = u16(HeaderOffset.subsystemVendorID)
            subsystemID = u16(HeaderOffset.subsystemID)
            capabilitiesPointer = b[HeaderOffset.capabilitiesPointer]
            busNumbers = nil
        case .bridge:
            subsystemVendorID = nil
            subsystemID = nil
            capabilitiesPointer = b[HeaderOffset.capabilitiesPointer]
            busNumbers = BridgeBusNumbers(
                primary: b[HeaderOffset.primaryBus],
                secondary: b[HeaderOffset.secondaryBus],
                subordinate: b[HeaderOffset.subordinateBus])
        case .cardBus:
            // The CardBus header keeps the subsystem IDs just past the 64 bytes (0x40, 0x42; PCI_CB_SUBSYSTEM_*).
            let subsystem = source.bytes(at: 0x40, count: 4)
            subsystemVendorID = subsystem.flatMap { $0.count == 4 ? UInt16($0[0]) | UInt16($0[1]) << 8 : nil }
            subsystemID = subsystem.flatMap { $0.count == 4 ? UInt16($0[2]) | UInt16($0[3]) << 8 : nil }
            capabilitiesPointer = b[HeaderOffset.cardBusCapabilitiesPointer]
            busNumbers = BridgeBusNumbers(primary: b[0x18], secondary: b[0x19], subordinate: b[0x1a])
        default:
            subsystemVendorID = nil
            subsystemID = nil
            capabilitiesPointer = nil
            busNumbers = nil
        }
    }
}

/// Whether a function's header bytes are its registers at all, as the kernel's scan decides it
/// (`pci_bus_generic_read_dev_vendor_id`, drivers/pci/probe.c: a vendor/device dword of `0xffffffff`, `0`,
/// `0x0000ffff` or `0xffff0000` is "no device"; `PCI_POSSIBLE_ERROR` is the all-ones read of a function that
/// does not answer).
public enum ConfigResponse {
    /// Why `header` (the first bytes of config space, up to 64) is not a function's registers; `nil` when it can
    /// be decoded. A VF's `ffff:ffff` ID dword with real registers after it (SR-IOV r1.1 §3.4.1.1) is decodable.
    public static func problem(_ header: [UInt8]) -> String? {
        let b = header.prefix(64)
        guard b.count >= 4 else { return nil }
        if b.allSatisfy({ $0 == 0xff }) {
            return "every config byte read reads ff: the function does not answer config reads (in D3cold, its link down, in reset, or removed)"
        }
        if b.allSatisfy({ $0 == 0 }) {
            return "every config byte read reads 00: these are not a function's registers"
        }
        let vendor = UInt16(b[b.startIndex]) | UInt16(b[b.startIndex + 1]) << 8
        let device = UInt16(b[b.startIndex + 2]) | UInt16(b[b.startIndex + 3]) << 8
        if vendor == 0 || (vendor == 0xffff) != (device == 0xffff) {
            return "vendor/device read \(hex(vendor, 4)):\(hex(device, 4)), which the kernel takes as no device (pci_bus_generic_read_dev_vendor_id)"
        }
        return nil
    }
}
