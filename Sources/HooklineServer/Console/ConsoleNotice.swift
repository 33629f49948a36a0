/// What the page after an action says was done: the action redirects with `?done=<code>` (and `&n=` for a
/// count), so that reloading the page repeats nothing and no text from the address is shown.
enum ConsoleNotice: String {
    case retried, cancelled, activated, stopped, revoked, bulkRetried = "bulk-retried"

    /// The notice for a page's query, if it names one.
    static func text(done: String?, count: String?) -> String? {
        guard let done, let notice = ConsoleNotice(rawValue: done) else { return nil }
        switch notice {
        case .retried: return "The job was put back in the queue."
        case .cancelled: return "The job was cancelled."
        case .activated: return "The cycle was activated: its held jobs run."
        case .stopped: return "The cycle was stopped: its new jobs are held."
        case .revoked: return "The client was revoked, and its tokens with it."
        case .bulkRetried:
            let n = count.flatMap { Int($0) } ?? 0
            return n == 1 ? "1 dead job was put back in the queue." : "\(n) dead jobs were put back in the queue."
        }
    }

    /// The address `path` with this notice.
    func redirect(to path: String, count: Int? = nil) -> String {
        path + (path.contains("?") ? "&" : "?") + "done=\(rawValue)" + (count.map { "&n=\($0)" } ?? "")
    }
}
