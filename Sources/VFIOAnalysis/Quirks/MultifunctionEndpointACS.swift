import PCIConfigSpace
import PCIHost

/// `pci_quirk_mf_endpoint_acs` (drivers/pci/quirks.c, Linux 6.18.y): multifunction devices whose vendors verified
/// that their functions do not talk peer-to-peer. The kernel counts them as providing SV, TB, RR, CR, UF and DT,
/// so they are isolated whatever their config space shows. These rows come first in `pci_dev_acs_enabled[]`.
public enum MultifunctionEndpointACS {
    static let table: [UInt16: (name: String, devices: Set<UInt16>)] = [
        0x1924: ("Solarflare", [0x0903, 0x0923, 0x0a03]),
        0x8086: ("Intel NIC (82598/82599/X540, 82580, 82576, 82575, I350, 82571, I219)", [
            0x10c6, 0x10db, 0x10dd, 0x10e1, 0x10f1, 0x10f7, 0x10f8, 0x10f9, 0x10fa, 0x10fb, 0x10fc, 0x1507, 0x1514, 0x151c,
            0x1529, 0x152a, 0x154d, 0x154f, 0x1551, 0x1558,
            0x1509, 0x150e, 0x150f, 0x1510, 0x1511, 0x1516, 0x1527,
            0x10c9, 0x10e6, 0x10e7, 0x10e8, 0x150a, 0x150d, 0x1518, 0x1526,
            0x10a7, 0x10a9, 0x10d6,
            0x1521, 0x1522, 0x1523, 0x1524,
            0x105e, 0x105f, 0x1060, 0x10d9,
            0x15b7, 0x15b8,
        ]),
        0x19a2: ("Emulex BE3-R", [0x0710]),
        0x10df: ("Emulex Skyhawk-R", [0x0720]),
        0x177d: ("Cavium multi-function device", [0xa026, 0xa059, 0xa060]),
        0x14e4: ("Broadcom multi-function device", [0x16d7, 0x1750, 0x1751, 0x1752, 0x1760, 0x1761, 0x1762, 0x1763]),
        0x1d17: ("Zhaoxin multi-function device", [0x3038, 0x3104, 0x9083]),
    ]

    /// The quirk's name when it claims `f`.
    public static func claims(_ f: PCIFunction) -> String? {
        guard let entry = table[f.vendorID], entry.devices.contains(f.deviceID) else { return nil }
        return entry.name
    }
}
