import Foundation
import Hookline
import HooklineAPIGenerated
import OpenAPIRuntime

extension AdminAPI {
    package func listCycles(_ input: Operations.ListCycles.Input) async throws -> Operations.ListCycles.Output {
        let account = try parameter(input.query.accountId, "account_id")
        return .ok(
            .init(body: .json(.init(items: try await cycles.list(account: account).map(Components.Schemas.Cycle.init))))
        )
    }

    package func createCycle(_ input: Operations.CreateCycle.Input) async throws -> Operations.CreateCycle.Output {
        guard case .json(let body) = input.body else { throw Problem(.badRequest) }
        let account = try field(body.accountId, at: "/account_id")
        let cycle = try await cycles.create(account: account, definition: try Self.bytes(body.definition))
        // The answer comes from what was written, not from another read that could fail after the commit.
        let detail = Components.Schemas.CycleDetail(
            cycle: .init(cycle), definition: body.definition,
            versions: [.init(version: cycle.version, createdAt: cycle.createdAt)])
        return .created(.init(headers: .init(eTag: Self.entityTag(cycle.version)), body: .json(detail)))
    }

    package func getCycle(_ input: Operations.GetCycle.Input) async throws -> Operations.GetCycle.Output {
        let detail = try await detail(try parameter(input.path.cycleId, "cycle_id"))
        return .ok(.init(headers: .init(eTag: Self.entityTag(detail.cycle.version)), body: .json(detail)))
    }

    /// An update names the version it started from in `If-Match` (its `ETag`): 428 without it, 412 when the
    /// cycle moved on since. `*` matches any version.
    package func updateCycle(_ input: Operations.UpdateCycle.Input) async throws -> Operations.UpdateCycle.Output {
        let id = try parameter(input.path.cycleId, "cycle_id")
        guard case .json(let body) = input.body else { throw Problem(.badRequest) }
        guard let condition = input.headers.ifMatch else {
            throw Problem(.preconditionRequired, "send If-Match with the ETag of the version the edit started from")
        }
        var versions: [Int]?
        if condition.trimmingCharacters(in: .whitespaces) != "*" {
            // A list of tags matches when one does; a tag that names no version matches none.
            versions = condition.split(separator: ",").compactMap {
                Self.version(entityTag: $0.trimmingCharacters(in: .whitespaces))
            }
            if versions?.isEmpty == true {
                throw Problem(.preconditionFailed, "If-Match names no version of this cycle")
            }
        }
        let cycle = try await cycles.update(id, definition: try Self.bytes(body.definition), ifVersion: versions)
        // The version this edit made, from the statement that made it: a later edit may already follow it.
        var detail = try await detail(id)
        detail.cycle = .init(cycle)
        detail.definition = body.definition
        return .ok(.init(headers: .init(eTag: Self.entityTag(cycle.version)), body: .json(detail)))
    }

    package func getCycleVersion(_ input: Operations.GetCycleVersion.Input) async throws
        -> Operations.GetCycleVersion.Output
    {
        let id = try parameter(input.path.cycleId, "cycle_id")
        guard let found = try await cycles.version(id, input.path.version) else {
            throw Problem(.notFound, "no such cycle version")
        }
        return .ok(
            .init(
                body: .json(
                    .init(
                        version: input.path.version, createdAt: found.createdAt,
                        definition: try Self.container(found.definition)))))
    }

    package func activateCycle(_ input: Operations.ActivateCycle.Input) async throws
        -> Operations.ActivateCycle.Output
    {
        let cycle = try await cycles.setActive(try parameter(input.path.cycleId, "cycle_id"), true)
        return .ok(.init(body: .json(.init(cycle))))
    }

    package func stopCycle(_ input: Operations.StopCycle.Input) async throws -> Operations.StopCycle.Output {
        let cycle = try await cycles.setActive(try parameter(input.path.cycleId, "cycle_id"), false)
        return .ok(.init(body: .json(.init(cycle))))
    }

    private func detail(_ id: UUID) async throws -> Components.Schemas.CycleDetail {
        let shown = try await cycles.show(id)
        return .init(
            cycle: .init(shown.cycle), definition: try Self.container(shown.definition),
            versions: shown.versions.map { .init(version: $0.0, createdAt: $0.1) })
    }

    /// The strong entity tag of a cycle at `version`: its number, quoted.
    static func entityTag(_ version: Int) -> String { "\"\(version)\"" }

    /// The version a strong entity tag names: a quoted number as ``entityTag(_:)`` writes it (no sign, no
    /// leading zero, within what the column holds); nil for a weak tag or one of another shape.
    static func version(entityTag tag: String) -> Int? {
        guard tag.count > 2, tag.hasPrefix("\""), tag.hasSuffix("\"") else { return nil }
        let digits = tag.dropFirst().dropLast()
        guard digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), digits.first != "0",
            let version = Int32(digits)
        else { return nil }
        return Int(version)
    }

    /// A definition as the request held it (its members beyond `name` and `steps` kept as they came), as
    /// JSON bytes for the domain's parser.
    static func bytes(_ definition: Components.Schemas.CycleDefinition) throws -> [UInt8] {
        Array(try JSONEncoder().encode(definition))
    }

    /// A stored definition as the response's.
    static func container(_ definition: JSON) throws -> Components.Schemas.CycleDefinition {
        try JSONDecoder().decode(Components.Schemas.CycleDefinition.self, from: Data(definition.bytes))
    }
}

extension Components.Schemas.Cycle {
    init(_ cycle: Cycle) {
        self.init(
            id: cycle.id.lowercased, accountId: cycle.accountID.lowercased, name: cycle.name, version: cycle.version,
            active: cycle.active, createdAt: cycle.createdAt)
    }
}
