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
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        // libpq, found through pkg-config; Debian's libpq-dev provides it.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        // The Swift face of libpq: the only module that calls it.
        .target(name: "Postgres", dependencies: ["CLibPQ"]),
        // The domain: accounts, clients, tokens, webhooks, the queue, cycles, migrations.
        .target(name: "Hookline", dependencies: ["Postgres"]),
        // The HTTP ingress.
        .target(name: "HooklineServer", dependencies: ["Hookline", "Postgres"]),
        // The worker runtime.
        .target(name: "HooklineWorker", dependencies: ["Hookline", "Postgres"]),
        // The `hookline` executable.
        .executableTarget(
            name: "HooklineCommand",
            dependencies: [
                "Hookline", "HooklineServer", "HooklineWorker", "Postgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/hookline"
        ),
        // Helpers shared by the test targets: the test database and throwaway databases.
        .target(name: "TestSupport", dependencies: ["Postgres"], path: "Tests/TestSupport"),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport"]),
        .testTarget(name: "HooklineTests", dependencies: ["Hookline", "Postgres", "TestSupport"]),
        // Runs the built `hookline` binary as a user would.
        .testTarget(name: "HooklineCLITests", dependencies: ["HooklineCommand", "Postgres", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
