// swift-tools-version:6.0
// Riptide: a Swift-native serving engine for DeepSeek-V4-class models.
// One module per layer; dependencies point one way:
//   RiptideCheckpoint, RiptideKernels → RiptideModel → RiptideEngine → RiptideServer → RiptideCLI
//   RiptideTokenizer ─────────────────────────────────↗ (engine and server)
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
        // The OpenAI-compatible server.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
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
        .target(name: "RiptideEngine", dependencies: ["RiptideModel", "RiptideTokenizer", "RiptideKernels"], swiftSettings: optimized),
        .target(
            name: "RiptideServer",
            dependencies: [
                "RiptideEngine", "RiptideModel", "RiptideTokenizer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: optimized),
        .executableTarget(
            name: "RiptideCLI",
            dependencies: [
                "RiptideCheckpoint", "RiptideTokenizer", "RiptideModel", "RiptideKernels", "RiptideBench",
                "RiptideEngine", "RiptideServer",
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
        .testTarget(name: "RiptideEngineTests", dependencies: ["RiptideEngine", "RiptideModel", "RiptideTokenizer", "RiptideCheckpoint"]),
        .testTarget(
            name: "RiptideModelTests", dependencies: ["RiptideModel", "RiptideCheckpoint"],
            resources: [.copy("Fixtures")]),
    ]
)
