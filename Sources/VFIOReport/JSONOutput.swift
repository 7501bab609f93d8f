#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The JSON every command prints: the bytes Foundation's `JSONEncoder` gives with
/// `[.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]` (two-space indent, `"key" : value`, keys sorted by
/// their UTF-8 bytes, an empty array or object as `[`, a blank line, `]`), plus a trailing newline, produced by
/// `SortedJSONEncoder`: every value is written into one buffer as it is encoded, an object whose members came out
/// of key order is put in order in place when it closes (a `JSONDirect` type writes its members sorted), and what
/// no open object can still reorder goes to the output in 64 KiB pieces, so a listing of thousands of functions never holds its whole text (`Scripts/bench`
/// measured Foundation's encoder at a third of `report --json`, and its tree and text at 374 MiB for 16,000 functions).
public enum JSONOutput {
    /// The JSON text of `value`, with a trailing newline.
    /// - Throws: `EncodingError` when the value cannot be encoded (a non-finite number, a `JSONDirect` type whose keys
    ///   come out of order, a key given twice).
    public static func render(_ value: some Encodable) throws -> String {
        let sink = JSONSink(fd: nil)
        try SortedJSONEncoder.encode(value, to: sink)
        sink.append(UInt8(ascii: "\n"))
        return String(decoding: sink.buffer, as: UTF8.self)
    }

    /// Writes the JSON text of `value` and a newline to standard output (file descriptor 1, in 64 KiB pieces, after
    /// what `print` buffered).
    /// - Throws: as `render`; output already written stays written.
    public static func write(_ value: some Encodable) throws {
        fflush(nil)
        let sink = JSONSink(fd: 1)
        try SortedJSONEncoder.encode(value, to: sink)
        sink.append(UInt8(ascii: "\n"))
        sink.flush()
    }
}

/// An array whose elements are made only as they are written: a listing of thousands of functions never holds
/// their described values all at once. Encodes as the array `(0..<count).map(element)` would.
public struct LazyJSONArray<Element: Encodable>: Encodable, Sendable {
    public let count: Int
    let element: @Sendable (Int) -> Element

    public init(count: Int, element: @escaping @Sendable (Int) -> Element) {
        self.count = count
        self.element = element
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.unkeyedContainer()
        for i in 0..<count { try c.encode(element(i)) }
    }
}

/// Bytes on their way to a file descriptor (or kept, for `JSONOutput.render`), and the containers still open.
final class JSONSink {
    /// The bytes not yet written; `buffer[0]` is byte `base` of the whole text.
    // Hot class properties: the encoder is single-threaded and never holds two accesses at once, so the dynamic
    // exclusivity checks (a seventh of the encoder's instructions) are turned off for them.
    @exclusivity(unchecked) var buffer: [UInt8] = []
    @exclusivity(unchecked) var base = 0
    let fd: Int32?
    /// Open containers, outermost first.
    @exclusivity(unchecked) var stack: [SortedJSONEncoder.Frame] = []
    /// Per type, the last order its members came in and the permutation that sorts it (most values of one type
    /// encode the same keys in the same order).
    @exclusivity(unchecked) var orders: [ObjectIdentifier: (keys: [String], order: [Int])] = [:]

    init(fd: Int32?) {
        self.fd = fd
        buffer.reserveCapacity(1 << 17)
    }

    /// Whether each type met so far is `JSONDirect` (a conformance check per value costs more than this lookup).
    @exclusivity(unchecked) private var direct: [ObjectIdentifier: Bool] = [:]

    /// Whether `type` writes its own JSON (`JSONDirect`), remembered per type.
    func isDirect(_ type: Any.Type) -> Bool {
        let id = ObjectIdentifier(type)
        if let known = direct[id] { return known }
        let answer = type is any JSONDirect.Type
        direct[id] = answer
        return answer
    }

    /// The absolute offset of the next byte.
    var end: Int { base + buffer.count }

    @inline(__always) func append(_ byte: UInt8) { buffer.append(byte) }

    func append(_ text: StaticString) {
        buffer.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    static let spaces = [UInt8](repeating: UInt8(ascii: " "), count: 64)

    func indent(_ depth: Int) {
        var n = 2 * depth
        while n > 0 {
            let k = min(n, 64)
            buffer.append(contentsOf: Self.spaces[0..<k])
            n -= k
        }
    }

    /// Writes what no open object can still reorder (arrays and `JSONDirect` objects never move), once 64 KiB are held.
    func flushIfLarge() {
        guard fd != nil, buffer.count >= 1 << 16 else { return }
        let limit = stack.first(where: \.isObject)?.open ?? end
        flush(upTo: limit)
    }

    /// Writes the bytes before absolute offset `limit` (retrying a short or interrupted write); a closed pipe ends the
    /// writing silently.
    func flush(upTo limit: Int? = nil) {
        guard let fd else { return }
        let count = (limit ?? end) - base
        guard count > 0 else { return }
        var offset = 0
        buffer.withUnsafeBytes { raw in
            while offset < count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
        buffer.removeFirst(count)
        base += count
    }
}

/// A small `Encoder` that writes JSON bytes in `JSONEncoder`'s sorted, pretty-printed form straight into a `JSONSink`.
///
/// An object or array opens where its value starts; a member is written whole where it is given (the containers
/// opened inside it close when its container is next written to, or closes), and an object whose keys came out of
/// order is permuted in place when it closes (each member keeps its bytes; the separators have one length).
/// `codingPath` is always empty (no type here reads it). Integers are written in decimal; floating-point values
/// as `JSONEncoder` writes them.
enum SortedJSONEncoder {
    static func encode(_ value: some Encodable, to sink: JSONSink) throws {
        try write(value, depth: 0, sink)
        try close(above: nil, sink)
    }

    /// An open object or array.
    final class Frame {
        let isObject: Bool
        let depth: Int
        /// Absolute offset of its `{` or `[`.
        let open: Int
        @exclusivity(unchecked) var count = 0
        /// Per member of an object that may need permuting: its key and where its separator starts.
        @exclusivity(unchecked) var keys: [String] = []
        @exclusivity(unchecked) var separators: [Int] = []
        /// The type whose value opened it (for the cached key order).
        var type: ObjectIdentifier?

        init(isObject: Bool, depth: Int, open: Int) {
            self.isObject = isObject
            self.depth = depth
            self.open = open
        }
    }

    /// Closes every container above `frame` on the stack (all of them when `nil`).
    static func close(above frame: Frame?, _ sink: JSONSink) throws {
        while let top = sink.stack.last, top !== frame {
            sink.stack.removeLast()
            try finish(top, sink)
        }
        if let frame, sink.stack.last !== frame {
            throw encodingError("a container was written to after it closed")
        }
    }

    /// Writes the closing of `frame`, after putting its members in key order.
    static func finish(_ frame: Frame, _ sink: JSONSink) throws {
        let closing = sink.end
        if frame.count == 0 {
            sink.append(0x0a)
            sink.append(0x0a)
        } else {
            if frame.isObject && frame.count > 1 { try permute(frame, endingAt: closing, sink) }
            sink.append(0x0a)
        }
        sink.indent(frame.depth)
        sink.append(frame.isObject ? UInt8(ascii: "}") : UInt8(ascii: "]"))
        sink.flushIfLarge()
    }

    /// Puts the members of `frame` (its separators at `frame.separators`, the last ending at `end`) in key order.
    static func permute(_ frame: Frame, endingAt end: Int, _ sink: JSONSink) throws {
        let keys = frame.keys
        let order: [Int]
        if let type = frame.type, let cached = sink.orders[type], cached.keys == keys {
            order = cached.order
        } else {
            var sorted = true
            for i in 1..<keys.count where !keys[i - 1].utf8.lexicographicallyPrecedes(keys[i].utf8) {
                sorted = false
                break
            }
            order = sorted ? Array(keys.indices) : keys.indices.sorted { keys[$0].utf8.lexicographicallyPrecedes(keys[$1].utf8) }
            for i in 1..<order.count where keys[order[i - 1]] == keys[order[i]] { throw encodingError("key \(keys[order[i]]) given twice") }
            if let type = frame.type { sink.orders[type] = (keys, order) }
        }
        if order.enumerated().allSatisfy({ $0.offset == $0.element }) { return }
        // Member i is its separator (",\n", or "\n" for the first) and its text, up to the next separator.
        let starts = frame.separators
        let from = starts[0] - sink.base
        let region = Array(sink.buffer[from..<(end - sink.base)])
        var out: [UInt8] = []
        out.reserveCapacity(region.count)
        for (position, i) in order.enumerated() {
            let textStart = starts[i] + (i == 0 ? 1 : 2)
            let textEnd = i + 1 < starts.count ? starts[i + 1] : end
            if position > 0 { out.append(UInt8(ascii: ",")) }
            out.append(0x0a)
            out.append(contentsOf: region[(textStart - starts[0])..<(textEnd - starts[0])])
        }
        sink.buffer.replaceSubrange(from..<(end - sink.base), with: out)
    }

    /// Starts a member of `frame`: closes what is open inside the previous one, writes the separator and indent,
    /// and the key of an object's member.
    static func begin(_ frame: Frame, key: String?, _ sink: JSONSink) throws {
        try close(above: frame, sink)
        if let key {
            frame.keys.append(key)
            frame.separators.append(sink.end)
        }
        if frame.count == 0 { sink.append(0x0a) } else { sink.append(UInt8(ascii: ",")); sink.append(0x0a) }
        frame.count += 1
        sink.indent(frame.depth + 1)
        if let key {
            appendString(key, sink)
            sink.append(" : ")
        }
    }

    /// Writes `value` at `depth` where the buffer ends.
    static func write<T: Encodable>(_ value: T, depth: Int, _ sink: JSONSink) throws {
        if try writeScalar(value, sink) { return }
        if sink.isDirect(T.self), let direct = value as? any JSONDirect {
            var object = JSONObjectWriter(sink: sink, depth: depth)
            try direct.writeJSON(&object)
            object.finish()
            return
        }
        let encoder = ValueEncoder(depth: depth, sink: sink)
        encoder.type = ObjectIdentifier(T.self)
        try value.encode(to: encoder)
        if !encoder.used {
            // Like JSONEncoder: a value that encoded nothing is an empty object.
            sink.append("{\n\n")
            sink.indent(depth)
            sink.append(UInt8(ascii: "}"))
        }
    }

    /// Writes a value JSON has a scalar for; `false` for anything else.
    static func writeScalar<T: Encodable>(_ value: T, _ sink: JSONSink) throws -> Bool {
        // The type is compared, not cast (a dynamic cast per value was a tenth of a listing's instructions).
        func take<U>(_: U.Type) -> U { withUnsafePointer(to: value) { $0.withMemoryRebound(to: U.self, capacity: 1) { $0.pointee } } }
        if T.self == String.self { appendString(take(String.self), sink) }
        else if T.self == Int.self { appendInteger(Int64(take(Int.self)), sink) }
        else if T.self == Bool.self { sink.append(take(Bool.self) ? "true" : "false") }
        else if T.self == UInt8.self { appendInteger(Int64(take(UInt8.self)), sink) }
        else if T.self == UInt16.self { appendInteger(Int64(take(UInt16.self)), sink) }
        else if T.self == UInt32.self { appendInteger(Int64(take(UInt32.self)), sink) }
        else if T.self == Int8.self { appendInteger(Int64(take(Int8.self)), sink) }
        else if T.self == Int16.self { appendInteger(Int64(take(Int16.self)), sink) }
        else if T.self == Int32.self { appendInteger(Int64(take(Int32.self)), sink) }
        else if T.self == Int64.self { appendInteger(take(Int64.self), sink) }
        else if T.self == UInt64.self { sink.buffer.append(contentsOf: String(take(UInt64.self)).utf8) }
        else if T.self == UInt.self { sink.buffer.append(contentsOf: String(take(UInt.self)).utf8) }
        else if T.self == Double.self { sink.buffer.append(contentsOf: try floating(take(Double.self))) }
        else if T.self == Float.self { sink.buffer.append(contentsOf: try floating(take(Float.self))) }
        else { return false }
        return true
    }

    static func appendInteger(_ v: Int64, _ sink: JSONSink) {
        if v < 0 {
            guard v != .min else { sink.buffer.append(contentsOf: String(v).utf8); return }
            sink.append(UInt8(ascii: "-"))
        }
        var magnitude = v.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[19 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            sink.buffer.append(contentsOf: d[(20 - count)...])
        }
    }

    /// A floating-point number exactly as `JSONEncoder` writes it (it has its own shortest-form rules).
    static func floating<F: BinaryFloatingPoint & Encodable>(_ v: F) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(v))
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// A JSON string: `"` and `\` escaped, `\b \t \n \f \r`, other control characters as `\u00xx`; `/`, DEL and
    /// non-ASCII written as they are (JSONEncoder's rules with `.withoutEscapingSlashes`).
    static func appendString(_ s: String, _ sink: JSONSink) {
        sink.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            var run = 0
            var i = 0
            let count = bytes.count
            while i < count {
                // Eight bytes at a time while none needs an escape (no control character, quote or backslash):
                // a byte b is flagged by (b - 0x20) borrowing, or by b ^ '"' or b ^ '\\' being zero (the
                // has-zero-byte test: a borrow only ever flags a byte above one that truly matched, so the word is
                // flagged exactly when one of its bytes needs an escape; UTF-8's high bytes are let through by `& ~x`).
                while i + 8 <= count, let base = bytes.baseAddress {
                    let x = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                    let low: UInt64 = 0x0101_0101_0101_0101, high: UInt64 = 0x8080_8080_8080_8080
                    let quote = x ^ (low &* 0x22), backslash = x ^ (low &* 0x5c)
                    let flagged = ((x &- low &* 0x20) | (quote &- low) | (backslash &- low)) & ~x & high
                    if flagged != 0 { break }
                    i += 8
                }
                guard i < count else { break }
                let b = bytes[i]
                guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else {
                    i += 1
                    continue
                }
                sink.buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<i]))
                run = i + 1
                i += 1
                sink.append(UInt8(ascii: "\\"))
                switch b {
                case 0x08: sink.append(UInt8(ascii: "b"))
                case 0x09: sink.append(UInt8(ascii: "t"))
                case 0x0a: sink.append(UInt8(ascii: "n"))
                case 0x0c: sink.append(UInt8(ascii: "f"))
                case 0x0d: sink.append(UInt8(ascii: "r"))
                case 0..<0x20:
                    sink.append("u00")
                    sink.append(hexDigits[Int(b >> 4)])
                    sink.append(hexDigits[Int(b & 0xf)])
                default: sink.append(b)
                }
            }
            sink.buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run...]))
        }
        sink.append(UInt8(ascii: "\""))
    }

    static func encodingError(_ message: String) -> EncodingError {
        EncodingError.invalidValue(message, EncodingError.Context(codingPath: [], debugDescription: message))
    }

    /// The encoder of one value at `depth`: it opens at most one container (asked again, the same one).
    final class ValueEncoder: Encoder {
        let depth: Int
        let sink: JSONSink
        /// The type of the value it encodes (`nil` for nested containers).
        var type: ObjectIdentifier?
        @exclusivity(unchecked) var frame: Frame?
        @exclusivity(unchecked) var used = false
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        init(depth: Int, sink: JSONSink) {
            self.depth = depth
            self.sink = sink
        }

        func open(object: Bool) -> Frame {
            if let frame { return frame }
            let frame = Frame(isObject: object, depth: depth, open: sink.end)
            frame.type = type
            sink.append(object ? UInt8(ascii: "{") : UInt8(ascii: "["))
            sink.stack.append(frame)
            self.frame = frame
            used = true
            return frame
        }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            KeyedEncodingContainer(Keyed<Key>(frame: open(object: true), sink: sink))
        }

        func unkeyedContainer() -> any UnkeyedEncodingContainer {
            Unkeyed(frame: open(object: false), sink: sink)
        }

        func singleValueContainer() -> any SingleValueEncodingContainer { Single(encoder: self) }
    }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let frame: Frame
        let sink: JSONSink
        var codingPath: [any CodingKey] { [] }

        mutating func encodeNil(forKey key: Key) throws { try begin(frame, key: key.stringValue, sink); sink.append("null") }
        mutating func encode(_ value: Bool, forKey key: Key) throws { try begin(frame, key: key.stringValue, sink); sink.append(value ? "true" : "false") }
        mutating func encode(_ value: String, forKey key: Key) throws { try begin(frame, key: key.stringValue, sink); appendString(value, sink) }
        mutating func encode(_ value: Int, forKey key: Key) throws { try begin(frame, key: key.stringValue, sink); appendInteger(Int64(value), sink) }

        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            try begin(frame, key: key.stringValue, sink)
            try write(value, depth: frame.depth + 1, sink)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            let encoder = ValueEncoder(depth: frame.depth + 1, sink: sink)
            do { try begin(frame, key: key.stringValue, sink) } catch { preconditionFailure("\(error)") }
            return encoder.container(keyedBy: NestedKey.self)
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            let encoder = ValueEncoder(depth: frame.depth + 1, sink: sink)
            do { try begin(frame, key: key.stringValue, sink) } catch { preconditionFailure("\(error)") }
            return encoder.unkeyedContainer()
        }

        mutating func superEncoder() -> any Encoder { superEncoder(forKey: Key(stringValue: "super")!) }

        mutating func superEncoder(forKey key: Key) -> any Encoder {
            do { try begin(frame, key: key.stringValue, sink) } catch { preconditionFailure("\(error)") }
            let encoder = ValueEncoder(depth: frame.depth + 1, sink: sink)
            _ = encoder.open(object: true)
            return encoder
        }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let frame: Frame
        let sink: JSONSink
        var codingPath: [any CodingKey] { [] }
        var count: Int { frame.count }

        mutating func encodeNil() throws { try begin(frame, key: nil, sink); sink.append("null") }
        mutating func encode(_ value: String) throws { try begin(frame, key: nil, sink); appendString(value, sink) }

        mutating func encode<T: Encodable>(_ value: T) throws {
            try begin(frame, key: nil, sink)
            try write(value, depth: frame.depth + 1, sink)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            do { try begin(frame, key: nil, sink) } catch { preconditionFailure("\(error)") }
            return ValueEncoder(depth: frame.depth + 1, sink: sink).container(keyedBy: NestedKey.self)
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            do { try begin(frame, key: nil, sink) } catch { preconditionFailure("\(error)") }
            return ValueEncoder(depth: frame.depth + 1, sink: sink).unkeyedContainer()
        }

        mutating func superEncoder() -> any Encoder {
            do { try begin(frame, key: nil, sink) } catch { preconditionFailure("\(error)") }
            let encoder = ValueEncoder(depth: frame.depth + 1, sink: sink)
            _ = encoder.open(object: true)
            return encoder
        }
    }

    struct Single: SingleValueEncodingContainer {
        let encoder: ValueEncoder
        var codingPath: [any CodingKey] { [] }

        mutating func encodeNil() throws { encoder.used = true; encoder.sink.append("null") }
        mutating func encode(_ value: Bool) throws { encoder.used = true; encoder.sink.append(value ? "true" : "false") }
        mutating func encode(_ value: String) throws { encoder.used = true; appendString(value, encoder.sink) }

        mutating func encode<T: Encodable>(_ value: T) throws {
            // The wrapped value takes this encoder's place (`Nullable`, `PCIAddress`): the same depth.
            encoder.used = true
            try write(value, depth: encoder.depth, encoder.sink)
        }
    }
}

/// A type that writes its own JSON object into the sink, its members in sorted key order, without the `Encoder`
/// protocol's container per value (about 70 instructions per byte of output for the listings' hottest types). Its
/// `Encodable` conformance stays, for every other encoder; the tests hold the two to the same bytes.
protocol JSONDirect {
    func writeJSON(_ object: inout JSONObjectWriter) throws
}

/// Writes one object's members, in the order given, which must be sorted (a key out of order is an `EncodingError`).
struct JSONObjectWriter {
    let sink: JSONSink
    let depth: Int
    /// The container open below this object (frames pushed by its members' values are closed above it).
    let below: SortedJSONEncoder.Frame?
    var count = 0
    var lastKey: StaticString?

    init(sink: JSONSink, depth: Int) {
        self.sink = sink
        self.depth = depth
        below = sink.stack.last
        sink.append(UInt8(ascii: "{"))
    }

    mutating func key(_ key: StaticString) throws {
        if let last = lastKey {
            let a = UnsafeBufferPointer(start: last.utf8Start, count: last.utf8CodeUnitCount)
            let b = UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
            guard a.lexicographicallyPrecedes(b) else {
                throw SortedJSONEncoder.encodingError("key \(key) written after \(last): a JSONDirect type must write its keys sorted")
            }
        }
        lastKey = key
        if count == 0 { sink.append(0x0a) } else { sink.append(UInt8(ascii: ",")); sink.append(0x0a) }
        count += 1
        sink.indent(depth + 1)
        sink.append(UInt8(ascii: "\""))
        sink.append(key)
        sink.append("\" : ")
    }

    mutating func member(_ key: StaticString, _ value: String) throws {
        try self.key(key)
        SortedJSONEncoder.appendString(value, sink)
    }

    mutating func member(_ key: StaticString, _ value: String?) throws {
        try self.key(key)
        if let value { SortedJSONEncoder.appendString(value, sink) } else { sink.append("null") }
    }

    mutating func member(_ key: StaticString, _ value: Int) throws {
        try self.key(key)
        SortedJSONEncoder.appendInteger(Int64(value), sink)
    }

    mutating func member(_ key: StaticString, _ value: Int?) throws {
        try self.key(key)
        if let value { SortedJSONEncoder.appendInteger(Int64(value), sink) } else { sink.append("null") }
    }

    mutating func member(_ key: StaticString, _ value: Bool) throws {
        try self.key(key)
        sink.append(value ? "true" : "false")
    }

    mutating func member(_ key: StaticString, _ value: Bool?) throws {
        try self.key(key)
        if let value { sink.append(value ? "true" : "false") } else { sink.append("null") }
    }

    mutating func member(_ key: StaticString, _ value: [String]) throws {
        try self.key(key)
        writeStrings(value)
    }

    mutating func member(_ key: StaticString, _ value: [String]?) throws {
        try self.key(key)
        if let value { writeStrings(value) } else { sink.append("null") }
    }

    /// Any other value, through the encoder (it may itself be `JSONDirect`); `nil` is `null`.
    mutating func member<T: Encodable>(_ key: StaticString, _ value: T?) throws {
        try self.key(key)
        if let value {
            try SortedJSONEncoder.write(value, depth: depth + 1, sink)
            try SortedJSONEncoder.close(above: below, sink)
        } else {
            sink.append("null")
        }
    }

    private func writeStrings(_ values: [String]) {
        sink.append(UInt8(ascii: "["))
        if values.isEmpty {
            sink.append(0x0a)
        } else {
            for (i, v) in values.enumerated() {
                if i > 0 { sink.append(UInt8(ascii: ",")) }
                sink.append(0x0a)
                sink.indent(depth + 2)
                SortedJSONEncoder.appendString(v, sink)
            }
        }
        sink.append(0x0a)
        sink.indent(depth + 1)
        sink.append(UInt8(ascii: "]"))
    }

    /// Closes the object (`{`, a blank line, `}` when it had no member).
    func finish() {
        sink.append(0x0a)
        if count == 0 { sink.append(0x0a) }
        sink.indent(depth)
        sink.append(UInt8(ascii: "}"))
        sink.flushIfLarge()
    }
}
