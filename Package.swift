// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "vfio-inspect",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "vfio-inspect", targets: ["vfio-inspect"]),
        .library(name: "PCIConfigSpace", targets: ["PCIConfigSpace"]),
        .library(name: "PCIHost", targets: ["PCIHost"]),
        .library(name: "VFIOReport", targets: ["VFIOReport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Fleet formats: the Prometheus text exposition (node_exporter textfile collector) and YAML.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // libpci itself, found through pkg-config; Debian/Ubuntu ship it in libpci-dev.
        .systemLibrary(
            name: "CLibPCI",
            pkgConfig: "libpci",
            providers: [.apt(["libpci-dev"])]
        ),
        // The few things Swift cannot do with libpci directly (varargs, a non-returning error callback).
        .target(
            name: "CLibPCIShims",
            dependencies: ["CLibPCI"]
        ),
        // Pure Swift: config-space bytes in, typed model out.
        .target(name: "PCIConfigSpace"),
        // The only importer of the C modules.
        .target(
            name: "PCILibPCI",
            dependencies: ["CLibPCI", "CLibPCIShims"]
        ),
        // The host model: a sysfs root (or a dump) read into functions, slots, groups, SR-IOV families.
        .target(
            name: "PCIHost",
            dependencies: ["PCIConfigSpace", "PCILibPCI"]
        ),
        // Rules, units, findings, group prediction: pure functions over the host model.
        .target(
            name: "VFIOAnalysis",
            dependencies: ["PCIHost", "PCIConfigSpace"]
        ),
        // Renderers: text and JSON.
        .target(
            name: "VFIOReport",
            dependencies: ["PCIHost", "PCIConfigSpace", "VFIOAnalysis"]
        ),
        // Fleet formats: NFD feature files, Prometheus textfiles, Ansible facts, DRA ResourceSlices, orchestrator config.
        .target(
            name: "VFIOFleet",
            dependencies: [
                "PCIConfigSpace", "PCIHost", "VFIOAnalysis", "VFIOReport",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "VFIOInspectCommands",
            dependencies: [
                "PCIHost", "VFIOAnalysis", "VFIOReport", "VFIOFleet",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "vfio-inspect",
            dependencies: ["VFIOInspectCommands"]
        ),
        .target(
            name: "TestSupport",
            dependencies: ["PCIHost"],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "PCIConfigSpaceTests",
            dependencies: ["PCIConfigSpace", "TestSupport"]
        ),
        .testTarget(
            name: "PCIHostTests",
            dependencies: ["PCIConfigSpace", "PCIHost", "PCILibPCI", "VFIOAnalysis", "VFIOReport", "VFIOFleet", "VFIOInspectCommands", "TestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
