// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "hookline",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hookline", targets: ["HooklineCommand"]),
        .library(name: "Postgres", targets: ["Postgres"]),
        .library(name: "Hookline", targets: ["Hookline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
    ],
    targets: [
        // libpq, found through pkg-config; Debian's libpq-dev provides it.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        // The Swift face of libpq: the only module that calls it.
        .target(
            name: "Postgres",
            dependencies: ["CLibPQ", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]
        ),
        // The domain: accounts, clients, tokens, webhooks, the queue, cycles, migrations.
        .target(
            name: "Hookline",
            dependencies: [
                "Postgres",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
        // MCP servers: sessions of the official MCP SDK whose tools are an account's cycles and jobs.
        .target(
            name: "HooklineMCP",
            dependencies: [
                "Hookline", "Postgres",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The HTTP ingress.
        .target(
            name: "HooklineServer",
            dependencies: [
                "Hookline", "HooklineMCP", "Postgres",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The worker runtime.
        .target(
            name: "HooklineWorker",
            dependencies: [
                "Hookline", "Postgres",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The `hookline` executable.
        .executableTarget(
            name: "HooklineCommand",
            dependencies: [
                "Hookline", "HooklineServer", "HooklineWorker", "Postgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/hookline"
        ),
        // Helpers shared by the test targets: the test database and throwaway databases.
        .target(
            name: "TestSupport",
            dependencies: ["Postgres", "Hookline", .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport"
        ),
        // The fuzz targets: each parser that strangers or tenants feed, with the properties its results must
        // have. scripts/fuzz builds HooklineFuzz with libFuzzer and the address sanitizer;
        // in a plain build it replays inputs.
        .target(
            name: "FuzzTargets",
            dependencies: [
                "Hookline", .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/Fuzz/Targets"
        ),
        .executableTarget(name: "HooklineFuzz", dependencies: ["FuzzTargets"], path: "Tests/Fuzz/Driver"),
        .testTarget(
            name: "PostgresTests",
            dependencies: [
                "Postgres", "TestSupport", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "HooklineTests", dependencies: ["Hookline", "Postgres", "TestSupport", "FuzzTargets"]),
        .testTarget(
            name: "HooklineServerTests",
            dependencies: [
                "HooklineServer", "HooklineMCP", "Hookline", "Postgres", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "HooklineWorkerTests",
            dependencies: [
                "HooklineWorker", "Hookline", "Postgres", "TestSupport",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Runs the built `hookline` binary as a user would.
        .testTarget(
            name: "HooklineCLITests",
            dependencies: [
                "HooklineCommand", "Hookline", "Postgres", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
