/// pci.ids read backwards: the IDs behind the names lspci prints when it runs without `-nn`
/// (`03:00.0 Network controller: Intel Corporation Device 093c (rev 3a)`).
///
/// Names are matched exactly as libpci composes them (lib/names.c): "VENDOR DEVICE", "VENDOR Device dddd" when the
/// device is not in pci.ids, "Device vvvv:dddd" when neither is; the class is the subclass's name, or "Class cccc".
/// A name that matches no entry, or more than one, gives no IDs: a text made with another pci.ids version stays
/// unknown rather than guessed.
public struct PCINameIndex: Sendable {
    var vendors: [String: [UInt16]] = [:]
    var devices: [UInt16: [String: [UInt16]]] = [:]
    var classes: [String: [UInt16]] = [:]
    /// (vendor, device) → subsystem name → (subsystem vendor, subsystem device).
    var subsystems: [UInt32: [String: [UInt32]]] = [:]

    /// Parses pci.ids text (`vvvv  name`, `\tdddd  name`, `\t\tssss ssss  name`, `C cc  name`, `\tss  name`).
    public init(_ bytes: [UInt8]) {
        var vendor: UInt16?
        var device: UInt16?
        var classCode: UInt8?
        for raw in bytes.split(separator: UInt8(ascii: "\n")) {
            guard let first = raw.first, first != UInt8(ascii: "#") else { continue }
            var line = Substring(decoding: raw, as: UTF8.self)
            if line.hasSuffix("\r") { line = line.dropLast() }
            let tabs = line.prefix { $0 == "\t" }.count
            let body = line.dropFirst(tabs)
            if tabs == 0, body.hasPrefix("C ") {
                let parts = body.dropFirst(2).split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
                classCode = parts.count == 2 ? UInt8(parts[0], radix: 16) : nil
                vendor = nil
                continue
            }
            guard let space = body.firstIndex(of: " ") else { continue }
            let key = body[..<space]
            let name = body[space...].drop { $0 == " " }
            switch tabs {
            case 0:
                vendor = key.count == 4 ? UInt16(key, radix: 16) : nil
                classCode = nil
                device = nil
                if let v = vendor { vendors[String(name), default: []].append(v) }
            case 1:
                if let v = vendor, key.count == 4, let d = UInt16(key, radix: 16) {
                    device = d
                    devices[v, default: [:]][String(name), default: []].append(d)
                } else if let c = classCode, key.count == 2, let s = UInt8(key, radix: 16) {
                    classes[String(name), default: []].append(UInt16(c) << 8 | UInt16(s))
                }
            case 2:
                guard let v = vendor, let d = device else { continue }
                let ids = key.split(separator: " ")
                let rest = name.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
                // `\t\tssss ssss  name`: the key is the subsystem vendor, the first word of the rest its device.
                if ids.count == 1, key.count == 4, let sv = UInt16(key, radix: 16), rest.count == 2, rest[0].count == 4, let sd = UInt16(rest[0], radix: 16) {
                    let sname = String(rest[1].drop { $0 == " " })
                    subsystems[UInt32(v) << 16 | UInt32(d), default: [:]][sname, default: []].append(UInt32(sv) << 16 | UInt32(sd))
                }
            default:
                continue
            }
        }
    }

    /// The one (vendor, device) pair whose names libpci renders as `text`, if exactly one does.
    public func ids(_ text: String) -> (UInt16, UInt16)? {
        // `Device 1af4:1041`: neither is in pci.ids.
        if text.hasPrefix("Device "), let ids = DeviceLine.idPair(text.dropFirst(7)) { return ids }
        var found: [(UInt16, UInt16)] = []
        for (name, ids) in vendors where text.hasPrefix(name + " ") {
            let rest = String(text.dropFirst(name.count + 1))
            for v in ids {
                if rest.hasPrefix("Device "), rest.count == 11, let d = UInt16(rest.dropFirst(7), radix: 16) {
                    // `VENDOR Device dddd`: only when pci.ids does not name that device (else lspci would have).
                    if devices[v]?.values.contains(where: { $0.contains(d) }) != true { found.append((v, d)) }
                } else if let ds = devices[v]?[rest] {
                    found += ds.map { (v, $0) }
                }
            }
        }
        return found.count == 1 ? found[0] : nil
    }

    /// The subsystem IDs of `Subsystem: …` for the function (vendor, device), if exactly one entry renders as `text`.
    public func subsystem(_ text: String, vendor: UInt16, device: UInt16) -> (UInt16, UInt16)? {
        if text.hasPrefix("Device "), let ids = DeviceLine.idPair(text.dropFirst(7)) { return ids }
        var found: [UInt32] = []
        let entries = subsystems[UInt32(vendor) << 16 | UInt32(device)] ?? [:]
        for (name, ids) in vendors where text.hasPrefix(name + " ") {
            let rest = String(text.dropFirst(name.count + 1))
            for sv in ids {
                if let listed = entries[rest] { found += listed.filter { $0 >> 16 == UInt32(sv) } }
                if rest.hasPrefix("Device "), rest.count == 11, let sd = UInt16(rest.dropFirst(7), radix: 16),
                   !entries.values.contains(where: { $0.contains(UInt32(sv) << 16 | UInt32(sd)) }) {
                    found.append(UInt32(sv) << 16 | UInt32(sd))
                }
            }
        }
        let unique = Set(found)
        guard unique.count == 1, let one = unique.first else { return nil }
        return (UInt16(one >> 16), UInt16(one & 0xffff))
    }

    /// The base class and subclass of a class name (`Network controller` → 0x0280; `Class ff00` → 0xff00).
    public func deviceClass(_ name: String) -> UInt16? {
        if name.hasPrefix("Class "), name.count == 10, let c = UInt16(name.dropFirst(6), radix: 16) { return c }
        guard let codes = classes[name], Set(codes).count == 1 else { return nil }
        return codes[0]
    }
}
