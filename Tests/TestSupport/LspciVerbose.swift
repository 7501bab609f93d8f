/// What `lspci -vvv` says about one function, parsed only as far as the cross-checks need.
public struct LspciDevice: Sendable {
    public var address: String
    /// `Capabilities: [48] ...` offsets in print order.
    public var capabilityOffsets: [Int] = []
    /// `Capabilities: [148 v1] ...` offsets and versions in print order.
    public var extendedCapabilities: [(offset: Int, version: Int)] = []
    /// "SrcValid+ TransBlk- ..." of ACSCap and ACSCtl.
    public var acsCapability: [String: Bool]?
    public var acsControl: [String: Bool]?
    /// Initial, Total, Number of VFs; offset, stride, VF device ID.
    public var sriovCounts: (initial: Int, total: Int, number: Int)?
    public var sriovPlacement: (offset: Int, stride: Int, deviceID: String)?
    /// FLReset+/- in the DevCap block of the Express capability.
    public var devCapFLR: Bool?
}

public enum LspciVerbose {
    /// Parses `lspci -vvv` output (with or without -D, -nn, -k).
    public static func parse(_ text: String) -> [String: LspciDevice] {
        var devices: [String: LspciDevice] = [:]
        var current: LspciDevice?
        var inDevCap = false
        func flush() {
            if let c = current { devices[c.address] = c }
        }
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            if !line.hasPrefix("\t") && !line.hasPrefix(" ") {
                if let first = line.split(separator: " ").first, let address = Lspci.normalise(first) {
                    flush()
                    current = LspciDevice(address: address)
                    inDevCap = false
                }
                continue
            }
            guard current != nil else { continue }
            let trimmed = line.drop(while: { $0 == "\t" || $0 == " " })
            let depth = line.prefix(while: { $0 == "\t" }).count
            if depth == 2 { inDevCap = trimmed.hasPrefix("DevCap:") }
            if trimmed.hasPrefix("Capabilities: [") {
                inDevCap = false
                let inside = trimmed.dropFirst("Capabilities: [".count).prefix(while: { $0 != "]" })
                let rest = trimmed.drop(while: { $0 != "]" }).dropFirst()
                if rest.contains("<chain looped>") || rest.contains("<chain broken>") || rest.contains("<access denied>") { continue }
                let parts = inside.split(separator: " ")
                guard let offset = parts.first.flatMap({ Int($0, radix: 16) }) else { continue }
                if parts.count > 1, parts[1].hasPrefix("v"), let v = Int(parts[1].dropFirst()) {
                    current?.extendedCapabilities.append((offset, v))
                } else {
                    current?.capabilityOffsets.append(offset)
                }
                continue
            }
            if inDevCap && (depth == 2 || depth == 3), trimmed.contains("FLReset") {
                current?.devCapFLR = trimmed.contains("FLReset+")
            }
            if trimmed.hasPrefix("ACSCap:") { current?.acsCapability = flags(trimmed.dropFirst("ACSCap:".count)) }
            if trimmed.hasPrefix("ACSCtl:") { current?.acsControl = flags(trimmed.dropFirst("ACSCtl:".count)) }
            if trimmed.hasPrefix("Initial VFs:") {
                let n = numbers(trimmed)
                if n.count >= 3 { current?.sriovCounts = (n[0], n[1], n[2]) }
            }
            if trimmed.hasPrefix("VF offset:") {
                // "VF offset: 1, stride: 1, Device ID: 0010"
                let fields = trimmed.split(separator: ",").map { $0.split(separator: ":").last.map { $0.trimmingSpaces } ?? "" }
                if fields.count >= 3, let o = Int(fields[0]), let s = Int(fields[1]) {
                    current?.sriovPlacement = (o, s, fields[2].lowercased())
                }
            }
        }
        flush()
        return devices
    }

    static func flags(_ s: Substring) -> [String: Bool] {
        var result: [String: Bool] = [:]
        for word in s.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            guard let last = word.last, last == "+" || last == "-" else { continue }
            result[String(word.dropLast())] = last == "+"
        }
        return result
    }

    static func numbers(_ s: Substring) -> [Int] {
        s.split(separator: ",").compactMap { part in
            part.split(separator: ":").last.flatMap { Int($0.trimmingSpaces) }
        }
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
