import Foundation
import Synchronization

/// A POSIX thread that can be joined, so a program about to exit can know that the thread is gone.
///
/// Foundation's `Thread` cannot be joined: code that signals "done" from inside its closure still runs the
/// thread's exit-time destructors afterwards (Foundation's and OpenSSL's thread-local state), and a process
/// that exits while those run races its own exit-time cleanup against them. (A `hookline jobs show` once
/// aborted with glibc's "double free or corruption" at exit, under load; this race is the suspect, not a
/// proven cause.) Joining waits for the whole exit.
///
/// A thread never joined is detached when this object goes, so its resources are freed when it ends.
final class JoinableThread: Sendable {
    #if canImport(Darwin)
        private nonisolated(unsafe) let handle: pthread_t
    #else
        private let handle: pthread_t
    #endif
    private let joined = Mutex(false)

    /// Starts `body` on a new thread named `name`.
    init(name: String, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(name: name, body: body)).toOpaque()
        #if canImport(Darwin)
            var created: pthread_t?
            let status = pthread_create(
                &created, nil,
                { raw in
                    runJoinableThread(raw)
                    return nil
                }, box)
            precondition(status == 0, "pthread_create failed with \(status)")
            handle = created!
        #else
            var created = pthread_t()
            let status = pthread_create(
                &created, nil,
                { raw in
                    runJoinableThread(raw!)
                    return nil
                }, box)
            precondition(status == 0, "pthread_create failed with \(status)")
            handle = created
        #endif
    }

    deinit {
        if !joined.withLock({ $0 }) { pthread_detach(handle) }
    }

    /// Waits until the thread has exited. Call it only once the thread's body has returned or is about to
    /// (the body signalled so): what is left is the thread's exit, which does not block.
    func join() {
        joined.withLock { done in
            if !done { pthread_join(handle, nil) }
            done = true
        }
    }

    fileprivate final class Box: Sendable {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }
}

/// The start routine of a ``JoinableThread``: names the thread and runs its body (a free function: a C
/// function pointer cannot capture).
private func runJoinableThread(_ raw: UnsafeMutableRawPointer) {
    let box = Unmanaged<JoinableThread.Box>.fromOpaque(raw).takeRetainedValue()
    Thread.current.name = box.name
    box.body()
}
