// swift-tools-version:6.0
import Foundation
import PackageDescription

// Module layout, allowed imports, threads and the real-time rules: docs/ARCHITECTURE.md.
var targets: [Target] = [
    .target(name: "Core"),
    .target(name: "Wire", dependencies: ["Core"]),
    .target(name: "Clock", dependencies: ["Core"]),
    .target(name: "Buffer", dependencies: ["Core"]),
    // Predicting lost audio (linear prediction by Burg's method, forward and two-sided).
    .target(name: "Concealment", dependencies: ["Core", "Buffer"]),
    // Keys, signing and checking of authenticated lines (jamnet/1.2): swift-crypto's HMAC.
    .target(name: "Authentication", dependencies: ["Core", "Wire", .product(name: "Crypto", package: "swift-crypto")]),
    .target(
        name: "Ingest",
        dependencies: [
            "Core", "Wire", "Clock", "Buffer", "Authentication",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
        ]
    ),
    .systemLibrary(name: "CVulkan", path: "Sources/CVulkan", providers: [.apt(["libvulkan-dev"])]),
    .target(name: "Sender", dependencies: ["Core", "Wire", "Authentication", "CVulkan"]),
    .systemLibrary(name: "CALSA", path: "Sources/CALSA", providers: [.apt(["libasound2-dev"])]),
    .systemLibrary(name: "CSampleRate", path: "Sources/CSampleRate", providers: [.apt(["libsamplerate0-dev"])]),
    // What the playback thread runs: no Foundation, no swift-log (RealtimeImportTests and the
    // import check of `make test` keep them out).
    .target(name: "Realtime", dependencies: ["Core", "Buffer", "CALSA", "CSampleRate"]),
    .target(name: "Playback", dependencies: ["Core", "Buffer", "Realtime", "CALSA", .product(name: "Logging", package: "swift-log")]),
    .target(name: "Receiver", dependencies: ["Core", "Buffer", "Concealment", "Ingest", "Playback", "Realtime", .product(name: "Logging", package: "swift-log")]),
    .target(
        name: "Operations",
        dependencies: [
            "Core", "Wire", "Clock", "Authentication", "Ingest", "Playback", "Receiver",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "CoreMetrics", package: "swift-metrics"), .product(name: "Prometheus", package: "swift-prometheus"),
        ]
    ),
    .executableTarget(
        name: "jamsend",
        dependencies: ["Core", "Wire", "Authentication", "Sender", .product(name: "ArgumentParser", package: "swift-argument-parser")]
    ),
    .executableTarget(
        name: "jamplay",
        dependencies: [
            "Core", "Wire", "Authentication", "Ingest", "Playback", "Realtime", "Receiver", "Operations",
            .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]
    ),
    .executableTarget(name: "WireBenchmarks", dependencies: ["Core", "Wire"], path: "Benchmarks/WireBenchmarks"),
    .executableTarget(name: "ClockBenchmarks", dependencies: ["Core", "Clock"], path: "Benchmarks/ClockBenchmarks"),
    .executableTarget(name: "SenderBenchmarks", dependencies: ["Core", "Wire", "Sender"], path: "Benchmarks/SenderBenchmarks"),
    .executableTarget(name: "PlaybackBenchmarks", dependencies: ["Core", "Sender", "JackProbe", "TestSupport"], path: "Benchmarks/PlaybackBenchmarks"),
    .executableTarget(
        name: "IngestBenchmarks",
        dependencies: ["Core", "Wire", "Buffer", "Ingest", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
        path: "Benchmarks/IngestBenchmarks"),
    .executableTarget(name: "PlayerInstructions", dependencies: ["Core", "Wire", "TestSupport"], path: "Benchmarks/PlayerInstructions"),
    .executableTarget(name: "IngestInstructions", dependencies: ["Core", "Wire", "Authentication", "Ingest"], path: "Benchmarks/IngestInstructions"),
    .executableTarget(name: "ResamplerBenchmarks", dependencies: ["Realtime", "ResamplerMeasurement"], path: "Benchmarks/ResamplerBenchmarks"),
    .executableTarget(name: "ConcealmentBenchmarks", dependencies: ["Core", "Buffer", "Concealment", "Realtime", "ConcealmentMeasurement"], path: "Benchmarks/ConcealmentBenchmarks"),
    .executableTarget(name: "MultiHostBenchmarks", dependencies: ["Core", "MultiHostBed"], path: "Benchmarks/MultiHostBenchmarks"),
    .executableTarget(name: "TimelineReplay", dependencies: ["Core", "Realtime"], path: "Benchmarks/TimelineReplay"),
    .target(name: "AllocationCounter", path: "Tests/Support/AllocationCounter"),
    .target(name: "TestSupport", path: "Tests/Support/TestSupport"),
    .target(name: "ResamplerMeasurement", dependencies: ["Realtime"], path: "Tests/Support/ResamplerMeasurement"),
    .target(name: "ConcealmentMeasurement", dependencies: ["Core", "Buffer", "Concealment"], path: "Tests/Support/ConcealmentMeasurement"),
    .target(name: "JackProbe", path: "Tests/Support/JackProbe", linkerSettings: [.linkedLibrary("jack"), .linkedLibrary("m")]),
    .target(name: "RigSupport", dependencies: ["JackProbe", "TestSupport"], path: "Tests/Support/RigSupport"),
    .executableTarget(name: "RigRecorder", dependencies: ["JackProbe", "RigSupport"], path: "Tests/Support/RigRecorder"),
    .target(name: "MultiHostBed", dependencies: ["Core", "RigSupport", "TestSupport"], path: "Tests/Support/MultiHostBed"),
    .testTarget(name: "CoreTests", dependencies: ["Core"]),
    .testTarget(name: "WireTests", dependencies: ["Core", "Wire", "AllocationCounter"]),
    .testTarget(name: "ClockTests", dependencies: ["Core", "Clock"]),
    .testTarget(name: "AuthenticationTests", dependencies: ["Core", "Wire", "Authentication"]),
    .testTarget(name: "ConcealmentTests", dependencies: ["Core", "Buffer", "Concealment", "ConcealmentMeasurement", "TestSupport"]),
    .testTarget(name: "BufferTests", dependencies: ["Core", "Buffer", "AllocationCounter"]),
    .testTarget(
        name: "IngestTests",
        dependencies: ["Core", "Wire", "Clock", "Buffer", "Authentication", "Ingest", "TestSupport", .product(name: "NIOCore", package: "swift-nio")]
    ),
    .testTarget(name: "SenderTests", dependencies: ["Core", "Wire", "Authentication", "Sender"]),
    // The jamsend binary, run as a user would.
    .testTarget(name: "JamsendTests", dependencies: ["Core", "Wire", "Authentication", "Sender", "Ingest", "TestSupport", "jamsend"]),
    .testTarget(name: "RealtimeTests", dependencies: ["Core", "Buffer", "Realtime", "AllocationCounter", "ResamplerMeasurement"]),
    .testTarget(name: "PlaybackTests", dependencies: ["Core", "Playback", .product(name: "Logging", package: "swift-log")]),
    // Playback on the JACK dummy rig (`make test-rig`).
    .testTarget(
        name: "RigTests",
        dependencies: [
            "Core", "Buffer", "Ingest", "Playback", "Realtime", "Receiver", "Sender", "JackProbe", "RigSupport", "TestSupport", "AllocationCounter", "jamsend", "jamplay",
            .product(name: "Logging", package: "swift-log"),
        ]
    ),
    .testTarget(
        name: "SystemTests",
        dependencies: ["Core", "Sender", "JackProbe", "RigSupport", "MultiHostBed", "TestSupport", "jamsend", "jamplay", "RigRecorder"]
    ),
    .testTarget(
        name: "OperationsTests",
        dependencies: ["Core", "Ingest", "Operations", "Receiver", "TestSupport", .product(name: "Logging", package: "swift-log")]
    ),
    .testTarget(name: "JamplayTests", dependencies: ["jamplay", "RigSupport", "TestSupport"]),
]

// The libFuzzer harnesses exist only in fuzzing builds (`make fuzz`): it calls into libFuzzer,
// which only a -sanitize=fuzzer build links.
if ProcessInfo.processInfo.environment["JAMPLAY_FUZZ"] != nil {
    targets.append(.target(name: "CFuzzerDriver", path: "Fuzz/CFuzzerDriver"))
    targets.append(.executableTarget(name: "WireFuzzer", dependencies: ["Core", "Wire", "CFuzzerDriver"], path: "Fuzz/WireFuzzer"))
    targets.append(.executableTarget(name: "SessionFuzzer", dependencies: ["Core", "Buffer", "Authentication", "Ingest", "Realtime", "Concealment", "CFuzzerDriver"], path: "Fuzz/SessionFuzzer"))
}

// One settings loop for every target: Swift 6 language mode (strict concurrency) everywhere.
for target in targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [
        .enableUpcomingFeature("ExistentialAny"),
    ]
}

let package = Package(
    name: "jamplay",
    products: [
        .executable(name: "jamplay", targets: ["jamplay"]),
        .executable(name: "jamsend", targets: ["jamsend"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: targets,
    swiftLanguageModes: [.v6]
)
