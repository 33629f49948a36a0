import Foundation
import Hookline
import MCP

/// The tools every Hookline MCP server offers besides its cycles: reading and steering its account's jobs.
enum JobTools: String, CaseIterable {
    case getJob = "get_job"
    case listJobs = "list_jobs"
    case queueStats = "queue_stats"
    case retryJob = "retry_job"
    case cancelJob = "cancel_job"

    /// The page size of `list_jobs` when the call does not say, and at most.
    static let defaultPage = 20
    static let maxPage = 100

    var tool: Tool {
        let jobID: Value = ["type": "integer", "minimum": 1, "description": "The job's id."]
        switch self {
        case .getJob:
            return Tool(
                name: rawValue,
                description: "One job of this account: state, attempts, errors, step runs and outputs.",
                inputSchema: Self.object(["job_id": jobID], required: ["job_id"]),
                annotations: .init(readOnlyHint: true, openWorldHint: false))
        case .listJobs:
            let states = JobState.allCases.map { Value.string($0.rawValue) }
            return Tool(
                name: rawValue,
                description:
                    "This account's waiting and running jobs and those that finished in the last 24 hours, newest first, a page at a time (pass next_cursor back as cursor).",
                inputSchema: Self.object([
                    "state": ["type": "string", "enum": .array(states)],
                    "cycle": ["type": "string", "description": "A cycle's name (one of this server's tools)."],
                    "cursor": ["type": "string"],
                    "limit": ["type": "integer", "minimum": 1, "maximum": .int(Self.maxPage)],
                ]),
                annotations: .init(readOnlyHint: true, openWorldHint: false))
        case .queueStats:
            return Tool(
                name: rawValue,
                description:
                    "This account's waiting and running jobs, and those that finished in the last 24 hours, counted by state.",
                inputSchema: Self.object([:]), annotations: .init(readOnlyHint: true, openWorldHint: false))
        case .retryJob:
            return Tool(
                name: rawValue,
                description: "Requeue a dead or cancelled job; it resumes at the step that failed unless from_start.",
                inputSchema: Self.object(["job_id": jobID, "from_start": ["type": "boolean"]], required: ["job_id"]),
                annotations: .init(readOnlyHint: false, destructiveHint: false, openWorldHint: false))
        case .cancelJob:
            return Tool(
                name: rawValue, description: "Cancel a job that waits (available or held).",
                inputSchema: Self.object(["job_id": jobID], required: ["job_id"]),
                annotations: .init(readOnlyHint: false, destructiveHint: true, openWorldHint: false))
        }
    }

    /// Runs the tool for `entry`'s account.
    /// - Throws: ``HooklineError`` for bad arguments or a job that is not the account's.
    func call(
        _ arguments: [String: JSON], entry: MCPServerDirectory.Entry, toolbox: MCPToolbox, maxResultBytes: Int
    ) async throws -> JSON {
        switch self {
        case .getJob:
            return try await toolbox.job(try Self.jobID(arguments), of: entry.server, maxBytes: maxResultBytes)
        case .listJobs:
            let state = try arguments["state"].map { value -> JobState in
                guard let state = value.string.flatMap(JobState.init(rawValue:)) else {
                    throw HooklineError.invalidArgument("state must be one of \(JobState.allCases.map(\.rawValue))")
                }
                return state
            }
            let cycle = try arguments["cycle"].map { value -> UUID in
                guard let tool = value.string.flatMap(entry.tool(named:)) else {
                    throw HooklineError.invalidArgument("cycle must be the name of one of this server's tools")
                }
                return tool.cycleID
            }
            // Only an integer in range: a number such as 1e300 does not fit an Int, and converting it traps.
            let limit: Int
            switch arguments["limit"] {
            case nil: limit = Self.defaultPage
            case .int(let value)? where (1...Int64(Self.maxPage)).contains(value): limit = Int(value)
            default: throw HooklineError.invalidArgument("limit must be an integer from 1 to \(Self.maxPage)")
            }
            return try await toolbox.jobs(
                of: entry.server, state: state, cycle: cycle, cursor: arguments["cursor"]?.string, limit: limit)
        case .queueStats: return try await toolbox.stats(of: entry.server)
        case .retryJob:
            let fromStart = arguments["from_start"].map { $0 == .bool(true) } ?? false
            return try await toolbox.retry(try Self.jobID(arguments), fromStart: fromStart, of: entry.server)
        case .cancelJob: return try await toolbox.cancel(try Self.jobID(arguments), of: entry.server)
        }
    }

    private static func jobID(_ arguments: [String: JSON]) throws -> Int64 {
        guard case .int(let id)? = arguments["job_id"], id > 0 else {
            throw HooklineError.invalidArgument("job_id must be a job's id (a positive integer)")
        }
        return id
    }

    private static func object(_ properties: [String: Value], required: [String] = []) -> Value {
        var schema: [String: Value] = [
            "type": "object", "properties": .object(properties), "additionalProperties": false,
        ]
        if !required.isEmpty { schema["required"] = .array(required.map { .string($0) }) }
        return .object(schema)
    }
}
