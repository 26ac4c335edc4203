// swift-tools-version:6.0
// Riptide: a Swift-native serving engine for DeepSeek-V4-class models.
// One module per layer; dependencies point one way:
//   RiptideCheckpoint, RiptideKernels → RiptideModel → (engine, server) → RiptideCLI
//   RiptideTokenizer ────────────────────────────────────↗
import PackageDescription

// Release builds target the AVX2 baseline; AVX-512 paths are chosen at run time.
// Without -target-cpu, SIMD FMAs lower to libm calls (see shared/specs/cpu-performance.md).
let optimized: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", "haswell"]),
]

let package = Package(
    name: "Riptide",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "riptide", targets: ["RiptideCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Benchmark client and its test server (plain NIOHTTP1), and the result store.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .target(name: "RiptideCheckpoint", swiftSettings: optimized),
        .target(
            name: "RiptideTokenizer",
            resources: [.copy("Resources/tokenizer.json")],
            swiftSettings: optimized),
        // Hot kernels in C: AVX2 baseline for the target, AVX-512 via function attributes only.
        .target(name: "CRiptideKernels", cSettings: [.unsafeFlags(["-O3", "-mavx2", "-mfma", "-mf16c"])]),
        .target(name: "RiptideKernels", dependencies: ["CRiptideKernels"], swiftSettings: optimized),
        .target(name: "RiptideModel", dependencies: ["RiptideCheckpoint", "RiptideKernels"], swiftSettings: optimized),
        .executableTarget(
            name: "RiptideCLI",
            dependencies: [
                "RiptideCheckpoint", "RiptideTokenizer", "RiptideModel", "RiptideKernels", "RiptideBench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: optimized),
        // Serving benchmark + report tool; independent of the engine modules.
        .target(
            name: "RiptideBench",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: optimized),
        .testTarget(
            name: "RiptideBenchTests",
            dependencies: [
                "RiptideBench",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]),
        .testTarget(name: "RiptideCheckpointTests", dependencies: ["RiptideCheckpoint"]),
        .testTarget(name: "RiptideKernelsTests", dependencies: ["RiptideKernels"]),
        .testTarget(
            name: "RiptideTokenizerTests", dependencies: ["RiptideTokenizer"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "RiptideModelTests", dependencies: ["RiptideModel", "RiptideCheckpoint"],
            resources: [.copy("Fixtures")]),
    ]
)
