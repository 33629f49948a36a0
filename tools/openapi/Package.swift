// swift-tools-version:6.0
// Swift OpenAPI Generator, built apart from Hookline so that a build of Hookline never compiles it (some four
// minutes of CPU on a 2-core machine): scripts/openapi builds it here and runs it on api/openapi.yaml.
import PackageDescription

let package = Package(
    name: "hookline-openapi",
    dependencies: [.package(url: "https://github.com/apple/swift-openapi-generator", exact: "1.14.3")],
    targets: []
)
