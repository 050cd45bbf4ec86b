// swift-tools-version:6.0
// recfs: a call-recording store with a FUSE face. See README.md and ../shared/DESIGN.md.
import PackageDescription

let package = Package(
    name: "recfs",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "recfs", targets: ["recfs"]),
        .library(name: "RecordingCore", targets: ["RecordingCore"]),
        .library(name: "RecordingStore", targets: ["RecordingStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C shims: system libraries found through pkg-config, wrapped as tiny modules.
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CLame", pkgConfig: "lame", providers: [.apt(["libmp3lame-dev"])]),
        .systemLibrary(name: "CFuse3", pkgConfig: "fuse3", providers: [.apt(["libfuse3-dev"])]),

        // AES-256-GCM on VAES/VPCLMULQDQ CPUs (OpenSSL 3.0 has no such path). Optimised even in
        // debug builds: the tests push whole recordings through it.
        .target(name: "CGCM", cSettings: [.unsafeFlags(["-O2"])]),

        // Pure Swift policy: settings, plans, resolution, validation, JSON. No I/O, no C.
        .target(name: "RecordingCore"),

        // The one facade every face uses: catalog, vault, blob stores, audit.
        .target(
            name: "RecordingStore",
            dependencies: [
                "RecordingCore", "COpenSSL", "CGCM",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),

        // Audio: legs in, the recording the settings ask for out (mix, stereo, trim, beep, WAV/MP3).
        .target(name: "RecordingEngine", dependencies: ["RecordingCore", "RecordingStore", "CLame"]),

        // The FUSE face: recordings as files by date/flow/call. Translates; holds no policy.
        .target(name: "RecordingFS", dependencies: ["RecordingCore", "RecordingStore", "CFuse3"]),

        // The command-line face.
        .executableTarget(
            name: "recfs",
            dependencies: [
                "RecordingCore", "RecordingStore", "RecordingEngine", "RecordingFS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(name: "RecordingCoreTests", dependencies: ["RecordingCore"]),
        .testTarget(name: "RecordingStoreTests", dependencies: ["RecordingStore", "RecordingCore"]),
        .testTarget(name: "RecordingEngineTests", dependencies: ["RecordingEngine", "RecordingStore", "RecordingCore"]),
        .testTarget(name: "RecordingFSTests", dependencies: ["RecordingFS", "RecordingEngine", "RecordingStore", "RecordingCore"]),
        .testTarget(name: "recfsTests", dependencies: ["recfs"]),
    ]
)
