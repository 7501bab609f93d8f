/// Text read from an input (a link's name, a process's `comm`, a pci.ids name, a line of a pasted dump) made
/// safe to print: every control character is replaced by a visible escape, so a stranger's snapshot or dump
/// can neither move the cursor, clear the screen, nor start a line of its own ("IOMMU group 99: ready").
///
/// Escaped: C0 controls (`\e` for ESC, `\n`, `\r`, `\t`, `\xHH` for the rest), DEL (`\x7f`), C1 controls
/// (U+0080–U+009F, `\u{9b}`), and the Unicode bidirectional overrides and isolates (U+202A–U+202E,
/// U+2066–U+2069, U+200E, U+200F), which reorder what a terminal shows. Everything else is kept.
public enum TerminalSafe {
    /// `text` with every control character escaped; `text` itself when it holds none (the common case costs one pass over its bytes).
    /// Whether every byte is printable ASCII (or a line feed, with `newlines`): a tight loop over the string's own
    /// storage, since every name and evidence string passes here.
    @inline(__always)
    static func isPlain(_ text: String, newlines: Bool = false) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { bytes in
            for b in bytes where b < 0x20 || b >= 0x7f {
                if !(newlines && b == 0x0a) { return false }
            }
            return true
        } ?? text.utf8.allSatisfy { ($0 >= 0x20 && $0 < 0x7f) || (newlines && $0 == 0x0a) }
    }

    public static func escape(_ text: String) -> String {
        if isPlain(text) { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            out += escape(scalar) ?? String(scalar)
        }
        return out
    }

    /// The visible form of one scalar, `nil` when it prints as itself.
    static func escape(_ s: Unicode.Scalar) -> String? {
        switch s.value {
        case 0x1b: return "\\e"
        case 0x0a: return "\\n"
        case 0x0d: return "\\r"
        case 0x09: return "\\t"
        case 0x00..<0x20, 0x7f: return "\\x" + hex(UInt8(s.value), 2)
        case 0x80...0x9f, 0x200e, 0x200f, 0x202a...0x202e, 0x2066...0x2069:
            return "\\u{" + String(s.value, radix: 16) + "}"
        default: return nil
        }
    }

    /// Whether `text` holds a character `escape` would change.
    public static func needsEscaping(_ text: String) -> Bool {
        if isPlain(text) { return false }
        return text.unicodeScalars.contains { escape($0) != nil }
    }

    /// Finished text output made safe for a terminal, as a last line of defence behind the escaping of every
    /// input-derived name: line ends the renderer wrote stay, and so do SGR colour sequences (`ESC [ digits;… m`)
    /// when `keepingColour`; every other control character is escaped.
    public static func output(_ text: String, keepingColour: Bool) -> String {
        if isPlain(text, newlines: true) { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        let scalars = Array(text.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let s = scalars[i]
            if s == "\n" {
                out.unicodeScalars.append(s)
                i += 1
                continue
            }
            if s.value == 0x1b, keepingColour, i + 1 < scalars.count, scalars[i + 1] == "[" {
                var j = i + 2
                while j < scalars.count, ("0"..."9").contains(scalars[j]) || scalars[j] == ";" { j += 1 }
                if j < scalars.count, scalars[j] == "m" {
                    for k in i...j { out.unicodeScalars.append(scalars[k]) }
                    i = j + 1
                    continue
                }
            }
            if let e = escape(s) { out += e } else { out.unicodeScalars.append(s) }
            i += 1
        }
        return out
    }
}
