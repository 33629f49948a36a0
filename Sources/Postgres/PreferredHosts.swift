import CLibPQ
import Synchronization

/// For a connection string that lists several hosts and asks for a writable server, which host last accepted
/// a connection: the next connection tries it first.
///
/// libpq tries `host=a,b` in the listed order and waits up to `connect_timeout` for each host that does not
/// answer. After a failover whose old primary vanished without a reset (a partition, a power loss) and is
/// listed first, every new connection would pay that wait before reaching the new primary, and a readiness
/// probe with a bound of its own could not pass while the pool reconnects. PgJDBC (its global host status
/// tracker) and Npgsql keep the same kind of record for the same reason.
///
/// Only with `target_session_attrs` `read-write` or `primary`: libpq still checks every server it connects to,
/// so the order changes how long a connection takes, never which kind of server it reaches. With any other
/// setting the listed order is the caller's preference and is kept.
enum PreferredHosts {
    /// By connection string, the index in its host list of the host that last accepted a connection.
    private static let preferred = Mutex<[String: Int]>([:])
    /// A process uses a handful of connection strings; past this many the record starts again.
    private static let capacity = 64

    /// The keywords and values that put the preferred host first, to be passed after the connection string
    /// (later keywords win); empty for libpq's own order.
    static func overrides(for connectionString: String) -> [(keyword: String, value: String)] {
        guard let list = HostList(connectionString), list.count > 1,
            let first = preferred.withLock({ $0[connectionString] }), first > 0, first < list.count
        else { return [] }
        return list.lists.compactMap { keyword, values in
            values.count == list.count
                ? (keyword, (values[first...] + values[..<first]).joined(separator: ",")) : nil
        }
    }

    /// Records which listed host `connection` (open) reached.
    static func record(_ connection: OpaquePointer, for connectionString: String) {
        guard let list = HostList(connectionString), list.count > 1,
            let host = PQhost(connection).map({ String(cString: $0) }),
            let port = PQport(connection).map({ String(cString: $0) })
        else { return }
        let names = list.lists["host"] ?? list.lists["hostaddr"] ?? []
        let ports = list.lists["port"].flatMap { $0.count == list.count ? $0 : nil }
        guard names.count == list.count,
            let index = names.indices.first(where: { names[$0] == host && (ports?[$0] ?? port) == port })
        else { return }
        preferred.withLock { record in
            if record.count >= capacity && record[connectionString] == nil { record.removeAll() }
            record[connectionString] = index
        }
    }

    /// The comma-separated `host`, `hostaddr` and `port` lists of a connection string that asks for a
    /// writable server; `nil` for any other (or one libpq cannot parse).
    private struct HostList {
        /// By keyword (`host`, `hostaddr`, `port`, when set), its values.
        var lists: [String: [String]] = [:]
        /// How many hosts are listed.
        var count: Int { max(lists["host"]?.count ?? 0, lists["hostaddr"]?.count ?? 0) }

        init?(_ connectionString: String) {
            guard let options = PQconninfoParse(connectionString, nil) else { return nil }
            defer { PQconninfoFree(options) }
            var writable = false
            var option = options
            while let keyword = option.pointee.keyword {
                if let raw = option.pointee.val {
                    let name = String(cString: keyword)
                    let value = String(cString: raw)
                    switch name {
                    case "host", "hostaddr", "port":
                        lists[name] = value.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                    case "target_session_attrs":
                        writable = value == "read-write" || value == "primary"
                    default:
                        break
                    }
                }
                option += 1
            }
            guard writable else { return nil }
        }
    }
}
