import NIOCore

/// The deadlines of one HTTP/1 connection, in the spirit of nginx's `client_header_timeout`,
/// `client_body_timeout` and `keepalive_timeout`: a client that stalls is cut off, and never holds anything
/// that another caller waits for.
///
/// - A new connection must start its first request, and any request must finish its head, within
///   `header` of the request's first byte (or of the connection's opening).
/// - A request body must not go `body` without a byte arriving.
/// - A body answered before it has all come (a refusal) is read and thrown away for `body` in all from the
///   answer, however it trickles, as nginx's `lingering_time` bounds it: the connection is not the client's
///   to hold once its request is answered.
/// - Between requests, a kept-alive connection may sit idle for `keepAlive`.
/// - While the application works on a request (the body has arrived, the answer has not gone), no deadline
///   runs: that time is the server's, not the client's. Nor while the application has stopped reading a body
///   (backpressure: it is busy before it reads on): the body's deadline runs only while a read is pending.
/// - A request pipelined behind one not yet answered waits on the server: its deadlines start once the
///   requests before it are answered.
///
/// One deadline is kept and one timer armed at a time: the per-event work is updating the deadline, and when
/// the timer fires early (the deadline moved on), it is armed again for the new deadline. When it fires on
/// time, the connection is closed.
///
/// `@unchecked Sendable`: every method runs on the connection's event loop (the two activity handlers call it
/// from their pipeline callbacks, the timer is scheduled on that loop), so its state is never shared across
/// threads; Sendable only lets the handler factory closure that Hummingbird takes capture it.
final class ConnectionClock: @unchecked Sendable {
    /// The three timeouts.
    struct Timeouts: Sendable, Hashable {
        var header: TimeAmount
        var body: TimeAmount
        var keepAlive: TimeAmount
    }

    private enum Phase {
        /// Waiting for a request's first byte (a fresh connection, or between requests).
        case idle
        case readingHead
        /// The request being answered next is still arriving.
        case readingBody
        /// The server's turn: a whole request is being answered, or one is pipelined behind one not yet
        /// answered.
        case working
    }

    private let timeouts: Timeouts
    private let channel: any Channel
    private var phase = Phase.idle
    private var deadline: NIODeadline?
    private var timer: Scheduled<Void>?
    /// When the armed timer fires.
    private var armedFor: NIODeadline?
    /// Requests whose head has arrived and whose answer has not all been written.
    private var unanswered = 0
    /// Whether the last request whose head arrived has arrived whole.
    private var lastEnded = true
    /// When the rest of a body answered before it arrived must have come: no deadline moves past it.
    private var lingerUntil: NIODeadline?

    init(timeouts: Timeouts, channel: any Channel) {
        self.timeouts = timeouts
        self.channel = channel
        extend(by: timeouts.header)
    }

    /// Bytes arrived from the client. Within a body, the deadline stops until the application asks for more.
    func bytesArrived() {
        switch phase {
        case .idle:
            phase = .readingHead
            extend(by: timeouts.header)
        case .readingBody:
            // The application reads on when it asks; a refused body's total deadline runs all the same.
            deadline = lingerUntil
        case .readingHead, .working:
            break
        }
    }

    /// The application asked for more bytes: within a body, the client has `body` to send some.
    func readRequested() {
        if phase == .readingBody { extend(by: timeouts.body) }
    }

    /// A request's head was parsed.
    func headArrived() {
        unanswered += 1
        lastEnded = false
        settle()
    }

    /// A request's last byte was parsed.
    func requestEnded() {
        lastEnded = true
        settle()
    }

    /// The end of a response was written.
    func responseEnded() {
        unanswered = max(0, unanswered - 1)
        settle()
    }

    /// Whose turn it is, after a request or an answer moved on.
    private func settle() {
        if lastEnded { lingerUntil = nil }
        switch (unanswered, lastEnded) {
        case (0, true):
            becomeIdle()
        case (0, false):
            // Answered while its body was still arriving (a refusal): the body's deadline still runs, and the
            // rest of the body has `body` in all.
            phase = .readingBody
            if lingerUntil == nil {
                lingerUntil = NIODeadline.now() + timeouts.body
                extend(by: timeouts.body)
            }
        case (1, false):
            // The request answered next is the one arriving: the client's turn.
            if phase != .readingBody {
                phase = .readingBody
                extend(by: timeouts.body)
            }
        default:
            phase = .working
            deadline = nil
        }
    }

    /// The connection closed: no timer outlives it.
    func closed() {
        timer?.cancel()
        timer = nil
        armedFor = nil
        deadline = nil
    }

    private func becomeIdle() {
        phase = .idle
        extend(by: timeouts.keepAlive)
    }

    /// Sets the deadline `amount` from now. A timer already armed for no later than that is left to fire and
    /// re-arm itself; one armed for later is replaced.
    private func extend(by amount: TimeAmount) {
        var next = NIODeadline.now() + amount
        if let lingerUntil { next = min(next, lingerUntil) }
        deadline = next
        if let armedFor, armedFor <= next { return }
        timer?.cancel()
        arm()
    }

    private func arm() {
        guard let deadline else { return }
        armedFor = deadline
        timer = channel.eventLoop.scheduleTask(deadline: deadline) { [self] in fire() }
    }

    private func fire() {
        timer = nil
        armedFor = nil
        guard let deadline else { return }
        if deadline <= .now() {
            channel.close(promise: nil)
        } else {
            arm()
        }
    }
}
