/// A device selector in the forms lspci users type: `[[[[domain]:]bus]:][device][.[function]]`,
/// e.g. `01:00.0`, `0000:01:00.0`, `01:00` (every function of a slot), `1f.3` (any bus), `.3`.
/// An omitted or `*` part matches anything.
public struct PCISelector: Hashable, Sendable, CustomStringConvertible {
    public let domain: UInt32?
    public let bus: UInt8?
    public let device: UInt8?
    public let function: UInt8?
    public let text: String

    public var description: String { text }

    public init(parsing text: String) throws(SelectorError) {
        self.text = text
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty else { throw .malformed(text, "empty selector") }
        // Split off the function part.
        var slotPart = Substring(trimmed)
        var functionPart: Substring?
        if let dot = trimmed.lastIndex(of: ".") {
            slotPart = trimmed[..<dot]
            functionPart = trimmed[trimmed.index(after: dot)...]
        }
        let fields = slotPart.split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count <= 3 else { throw .malformed(text, "too many ':' separated fields") }
        func field(_ s: Substring?, max: UInt32, name: String) throws(SelectorError) -> UInt32? {
            guard let s, !s.isEmpty, s != "*" else { return nil }
            guard let value = UInt32(s, radix: 16), value <= max else {
                throw .malformed(text, "\(name) '\(s)' is not a hex number up to \(String(max, radix: 16))")
            }
            return value
        }
        let domainField: Substring? = fields.count == 3 ? fields[0] : nil
        let busField: Substring? = fields.count >= 2 ? fields[fields.count - 2] : nil
        let deviceField: Substring? = fields.last
        domain = try field(domainField, max: 0xffff_ffff, name: "domain")
        bus = try field(busField, max: 0xff, name: "bus").map { UInt8($0) }
        device = try field(deviceField, max: 0x1f, name: "device").map { UInt8($0) }
        function = try field(functionPart, max: 7, name: "function").map { UInt8($0) }
    }

    public func matches(_ address: PCIAddress) -> Bool {
        (domain == nil || domain == address.domain)
            && (bus == nil || bus == address.bus)
            && (device == nil || device == address.device)
            && (function == nil || function == address.function)
    }
}

/// `-d [vendor]:[device][:class]`, as lspci takes it (`8086:`, `:1533`, `10de::0300`, `::0c03`).
/// An empty or `*` field matches anything; the class is the 4-digit base class and subclass.
public struct IDFilter: Hashable, Sendable {
    public let vendor: UInt16?
    public let device: UInt16?
    /// Base class and subclass (`0300`), as lspci's third field.
    public let deviceClass: UInt16?
    /// The programming interface (lspci 3.8's fourth field).
    public let progIf: UInt8?

    public init(parsing text: String) throws(SelectorError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...4).contains(parts.count) else { throw .malformed(text, "expected VENDOR:DEVICE[:CLASS[:PROG-IF]], each part may be empty") }
        func id(_ s: Substring, _ what: String) throws(SelectorError) -> UInt16? {
            guard !s.isEmpty, s != "*" else { return nil }
            guard s.count <= 4, let v = UInt16(s, radix: 16) else { throw .malformed(text, "'\(s)' is not a hex \(what) of at most 4 digits") }
            return v
        }
        vendor = try id(parts[0], "vendor ID")
        device = try id(parts[1], "device ID")
        deviceClass = parts.count >= 3 ? try id(parts[2], "class") : nil
        if parts.count == 4, !parts[3].isEmpty {
            guard parts[3].count <= 2, let p = UInt8(parts[3], radix: 16) else { throw .malformed(text, "'\(parts[3])' is not a hex programming interface of at most 2 digits") }
            progIf = p
        } else {
            progIf = nil
        }
    }

    public func matches(vendor v: UInt16, device d: UInt16, classCode: ClassCode? = nil) -> Bool {
        (vendor == nil || vendor == v) && (device == nil || device == d)
            && (deviceClass == nil || classCode?.deviceClass == deviceClass)
            && (progIf == nil || classCode?.programmingInterface == progIf)
    }
}

public enum SelectorError: Error, Hashable, Sendable, CustomStringConvertible {
    case malformed(String, String)

    public var description: String {
        switch self {
        case let .malformed(text, why): "invalid selector '\(text)': \(why)"
        }
    }
}

extension String {
    /// The text without the whitespace Characters (`Character.isWhitespace`) at either end.
    public func trimmingWhitespace() -> String {
        // ASCII text (every sysfs attribute the kernel writes) in bytes: its whitespace Characters are the bytes
        // 0x09-0x0d and 0x20 ("\r\n", one Character, is two of them), so trimming those bytes trims exactly those
        // Characters, without grapheme breaking (a tenth of a listing's attribute reads). Other text by Character.
        let utf8 = self.utf8
        if utf8.allSatisfy({ $0 < 0x80 }) {
            func space(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0d) }
            var start = utf8.startIndex, end = utf8.endIndex
            while start != end, space(utf8[start]) { utf8.formIndex(after: &start) }
            while end != start, space(utf8[utf8.index(before: end)]) { utf8.formIndex(before: &end) }
            return start == utf8.startIndex && end == utf8.endIndex ? self : String(self[start..<end])
        }
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}

extension StringProtocol where SubSequence == Substring {
    /// `split(separator:)` for an ASCII separator, over the UTF-8 bytes: no grapheme breaking, which made path and
    /// link splitting a sixth of a scan's instructions, and the kernel's own byte semantics ("/" followed by a
    /// combining mark is still a separator in a path).
    public func fastSplit(_ separator: Unicode.Scalar, omittingEmptySubsequences: Bool = true) -> [Substring] {
        precondition(separator.isASCII)
        let byte = UInt8(separator.value)
        let utf8 = self.utf8
        var result: [Substring] = []
        var start = utf8.startIndex
        var i = start
        while i != utf8.endIndex {
            if utf8[i] == byte {
                if !omittingEmptySubsequences || i != start { result.append(self[start..<i]) }
                start = utf8.index(after: i)
            }
            i = utf8.index(after: i)
        }
        if !omittingEmptySubsequences || start != utf8.endIndex { result.append(self[start..<utf8.endIndex]) }
        return result
    }
}

extension StringProtocol where SubSequence == Substring {
    /// `fastSplit("/").last` without the split: the last non-empty component of a path, `nil` when it has none.
    public func lastPathComponent() -> Substring? {
        let whole = self[...]
        let utf8 = whole.utf8
        let slash = UInt8(ascii: "/")
        var end = utf8.endIndex
        while end != utf8.startIndex, utf8[utf8.index(before: end)] == slash { end = utf8.index(before: end) }
        guard end != utf8.startIndex else { return nil }
        var start = end
        while start != utf8.startIndex, utf8[utf8.index(before: start)] != slash { start = utf8.index(before: start) }
        return whole[start..<end]
    }
}

/// The value of one ASCII hex digit (either case), `nil` for any other byte.
func hexDigitValue(_ b: UInt8) -> UInt8? {
    switch b {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
    case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
    case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
    default: nil
    }
}
