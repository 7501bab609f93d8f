#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
    print(message, to: &stream)
}
