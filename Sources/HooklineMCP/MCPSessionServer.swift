import Foundation
import Hookline
import Logging
import MCP
import Synchronization

/// Builds the MCP SDK `Server` of one session: `tools/list` and `tools/call` over the MCP server's cycles
/// and the job tools, read through the directory on every request (so an update shows at once).
struct MCPSessionServer: Sendable {
    let directory: MCPServerDirectory
    let toolbox: MCPToolbox
    let logger: Logger
    /// The largest result a tool returns (``MCPSessionLimits/maxResultBytes``).
    let maxResultBytes: Int
    /// Tool calls one session runs at once (``MCPSessionLimits/maxCallsPerSession``); past it a call is
    /// refused at once, so that a session's results being built stay bounded.
    let maxCallsAtOnce: Int

    /// A new SDK server for a session of the MCP server `id`, whose current record is `entry`.
    func make(_ id: UUID, entry: MCPServerDirectory.Entry) async -> Server {
        let server = Server(
            name: "hookline", version: "0.1.0", title: entry.server.name,
            instructions: entry.server.description.isEmpty ? nil : entry.server.description,
            capabilities: .init(tools: .init(listChanged: true)))
        await server.withMethodHandler(ListTools.self) { _ in
            let entry = try await current(id)
            return .init(tools: entry.tools.map(Self.tool) + JobTools.allCases.map(\.tool))
        }
        let running = Mutex(0)
        await server.withMethodHandler(CallTool.self) { parameters in
            let admitted = running.withLock { count in
                guard count < maxCallsAtOnce else { return false }
                count += 1
                return true
            }
            guard admitted else {
                return Self.failure(
                    "this session runs \(maxCallsAtOnce) tool calls at once at most; retry once one has answered")
            }
            defer { running.withLock { $0 -= 1 } }
            return try await call(parameters, id: id)
        }
        return server
    }

    private func current(_ id: UUID) async throws -> MCPServerDirectory.Entry {
        do {
            guard let entry = try await directory.entry(id) else {
                throw MCPError.invalidRequest("this MCP server was deleted")
            }
            return entry
        } catch let error as MCPError {
            throw error
        } catch {
            logger.warning("MCP server look-up failed", metadata: ["error": "\(error)"])
            throw MCPError.internalError("the database is unavailable; try again")
        }
    }

    private func call(_ parameters: CallTool.Parameters, id: UUID) async throws -> CallTool.Result {
        let entry = try await current(id)
        let arguments = (parameters.arguments ?? [:]).mapValues { JSON(mcp: $0) }
        do {
            if let tool = entry.tool(named: parameters.name) {
                return Self.result(
                    try await toolbox.call(tool, of: entry.server, arguments: arguments), maxResultBytes: maxResultBytes
                )
            }
            if let tool = JobTools(rawValue: parameters.name) {
                // Job tools read the database as cycle tools write it: both spend the account's rate.
                if let wait = toolbox.admit(entry.server.accountID) {
                    return Self.result(.rateLimited(retryAfter: wait), maxResultBytes: maxResultBytes)
                }
                return Self.success(
                    try await tool.call(arguments, entry: entry, toolbox: toolbox, maxResultBytes: maxResultBytes),
                    maxResultBytes: maxResultBytes)
            }
        } catch let error as HooklineError {
            return Self.failure(error.description)
        } catch {
            logger.warning("MCP tool call failed", metadata: ["tool": "\(parameters.name)", "error": "\(error)"])
            return Self.failure("the call failed for want of the database; try again")
        }
        throw MCPError.invalidParams("Unknown tool: \(parameters.name)")
    }

    /// A cycle as the SDK describes a tool: its input schema with the two arguments every cycle tool takes.
    static func tool(_ tool: MCPTool) -> Tool {
        var schema = tool.inputSchema.object ?? ["type": .string("object")]
        var properties = schema["properties"]?.object ?? [:]
        properties["idempotency_key"] = .object([
            "type": .string("string"), "minLength": .int(1), "maxLength": .int(200),
            "description": .string("Repeat a call with the same key to get the first call's job instead of a new one."),
        ])
        properties["wait_seconds"] = .object([
            "type": .string("number"), "minimum": .int(0), "maximum": .int(Int64(MCPToolbox.maxWait)),
            "description": .string("How long to wait for the job (default \(Int(MCPToolbox.defaultWait)))."),
        ])
        schema["properties"] = .object(properties)
        return Tool(
            name: tool.name, description: tool.description, inputSchema: Value(json: .object(schema)),
            annotations: .init(readOnlyHint: false, destructiveHint: false, openWorldHint: true))
    }

    /// A cycle tool's answer; a result larger than `maxResultBytes` is refused.
    static func result(_ call: MCPToolCall, maxResultBytes: Int) -> CallTool.Result {
        switch call {
        case .completed(let jobID, let output):
            var members = output.object ?? ["result": output]
            if output.object == nil { members["job_id"] = .int(jobID) }
            return structured(members, isError: false, job: jobID, maxResultBytes: maxResultBytes)
        case .failed(let jobID, let state, let error):
            return structured(
                ["job_id": .int(jobID), "state": .string(state.rawValue), "error": .string(error)], isError: true,
                maxResultBytes: maxResultBytes)
        case .pending(let jobID, let state):
            return structured(
                ["job_id": .int(jobID), "state": .string(state.rawValue)], isError: false,
                maxResultBytes: maxResultBytes)
        case .invalidArguments(let problems):
            return failure("the arguments do not match the tool's input schema: " + problems.joined(separator: "; "))
        case .rateLimited(let seconds):
            return structured(
                [
                    "error": .string("too many calls for this account; retry in \(seconds) s"),
                    "retry_after": .int(Int64(seconds)),
                ],
                isError: true, maxResultBytes: maxResultBytes)
        }
    }

    /// A job tool's answer: an object as it is, any other value as `{"result": …}`.
    static func success(_ value: JSON, maxResultBytes: Int) -> CallTool.Result {
        structured(value.object ?? ["result": value], isError: false, maxResultBytes: maxResultBytes)
    }

    /// `members` as the result's structured content and, as the specification asks of a tool that returns
    /// structured content, the same JSON as its text; refused when larger than `maxResultBytes` (see
    /// ``MCPSessionLimits/maxResultBytes``).
    static func structured(_ members: [String: JSON], isError: Bool, job: Int64? = nil, maxResultBytes: Int)
        -> CallTool.Result
    {
        let object = JSON.object(members)
        let size = object.bytes.count
        if size > maxResultBytes {
            let id = job.map { " (job \($0): hookline jobs show prints it)" } ?? ""
            return failure("the result is \(size) bytes, more than the \(maxResultBytes) a tool result may carry\(id)")
        }
        // Typed as optionals, so that the SDK's non-throwing initializer is the one chosen.
        let content: Value? = Value(json: object)
        let flag: Bool? = isError
        return .init(
            content: [.text(text: object.text, annotations: nil, _meta: nil)], structuredContent: content,
            isError: flag)
    }

    static func failure(_ message: String) -> CallTool.Result {
        .init(content: [.text(text: message, annotations: nil, _meta: nil)], isError: true)
    }
}
