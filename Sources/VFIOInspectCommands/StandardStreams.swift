#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PCIHost

/// Standard error as a `TextOutputStream`, written straight to file descriptor 2.
struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        var bytes = Array(string.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { raw in
                Glibc.write(2, raw.baseAddress, raw.count)
            }
            if n <= 0 { return }
            bytes = bytes.dropFirst(n)
        }
    }
}

func printError(_ message: String) {
    var stream = StandardError()
    // Error messages quote paths and values from the input too.
    print(TerminalSafe.output(message, keepingColour: false), to: &stream)
}

/// Writes a text renderer's output to standard output through `TerminalSafe.output`: the renderers' own line ends
/// (and, with `colour`, their SGR colour sequences) stay, and any other control character is escaped. Every name
/// from the input is escaped where it is read already; this is the last line of defence.
func printText(_ text: String, colour: Bool = false) {
    print(TerminalSafe.output(text, keepingColour: colour), terminator: "")
}
