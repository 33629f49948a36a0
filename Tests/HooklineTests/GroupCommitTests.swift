import Hookline
import Testing

@Suite("Group commit decides when a batch goes")
struct GroupCommitTests {
    /// The ingress's configuration, small enough to reach each bound.
    static func ingress() -> GroupCommit<Int> {
        GroupCommit(maxBatch: 3, maxBatchBytes: 100, window: .milliseconds(2))
    }

    /// The ingress's configuration once items of one byte each have arrived (and none finished).
    static func ingress(after items: ClosedRange<Int>) -> GroupCommit<Int> {
        var machine = ingress()
        for item in items { _ = machine.arrived(item, bytes: 1) }
        return machine
    }

    @Test func anItemArrivingWhenNothingCommitsGoesAtOnce() {
        var ingress = Self.ingress()
        #expect(ingress.arrived(1, bytes: 10) == .commit([1]))
        var completions = GroupCommit<Int>()
        #expect(completions.arrived(1) == .commit([1]))
        #expect(completions.inFlight == 1)
    }

    @Test func whileABatchCommitsArrivalsWaitAndOneTimerStarts() {
        var ingress = Self.ingress()
        _ = ingress.arrived(1, bytes: 10)
        #expect(ingress.arrived(2, bytes: 10) == .startTimer(.milliseconds(2)))
        #expect(ingress.arrived(3, bytes: 10) == .none, "one timer at a time")
        #expect(ingress.waitingCount == 2)
    }

    @Test func withoutBoundsOrWindowArrivalsWaitForTheBatchToFinish() {
        var completions = GroupCommit<Int>()
        _ = completions.arrived(1)
        for item in 2...500 { #expect(completions.arrived(item) == .none) }
        #expect(completions.finished() == .commit(Array(2...500)), "everything waiting is the next batch")
        #expect(completions.finished() == .none)
        #expect(completions.inFlight == 0)
    }

    @Test func maxBatchWaitingGoBesideTheBatchCommitting() {
        var ingress = Self.ingress(after: 1...2)
        #expect(ingress.arrived(3, bytes: 1) == .none)
        #expect(ingress.arrived(4, bytes: 1) == .commit([2, 3, 4]))
        #expect(ingress.inFlight == 2)
    }

    @Test func maxBatchBytesWaitingGoAndTheFirstAlwaysGoes() {
        var ingress = Self.ingress()
        _ = ingress.arrived(1, bytes: 1)
        _ = ingress.arrived(2, bytes: 40)
        #expect(ingress.arrived(3, bytes: 50) == .none, "90 bytes wait")
        #expect(ingress.arrived(4, bytes: 20) == .commit([2, 3]), "110 wait; 2 and 3 fit in 100, 4 does not")
        #expect(ingress.waitingCount == 1)
        #expect(ingress.arrived(5, bytes: 1) == .none, "21 bytes wait")
        #expect(ingress.windowElapsed() == .commit([4, 5]))

        var exact = Self.ingress()
        _ = exact.arrived(1, bytes: 1)
        _ = exact.arrived(2, bytes: 60)
        #expect(exact.arrived(3, bytes: 40) == .commit([2, 3]), "exactly maxBatchBytes wait")

        var large = Self.ingress()
        _ = large.arrived(1, bytes: 1)
        #expect(large.arrived(2, bytes: 500) == .commit([2]), "over the bound alone, it goes alone")
        #expect(large.arrived(3, bytes: 500) == .commit([3]))
    }

    @Test func theWindowElapsingSendsWhatWaits() {
        var ingress = Self.ingress(after: 1...3)
        #expect(ingress.windowElapsed() == .commit([2, 3]))
        #expect(ingress.inFlight == 2)
        #expect(ingress.arrived(4, bytes: 1) == .startTimer(.milliseconds(2)), "a new timer for the next")
    }

    @Test func theWindowElapsingWithNothingWaitingDoesNothing() {
        var ingress = Self.ingress(after: 1...4)
        #expect(ingress.windowElapsed() == .none)
        #expect(ingress.inFlight == 2)
    }

    @Test func aBatchFinishingWithOthersCommittingLeavesWaitersToThem() {
        var ingress = Self.ingress(after: 1...5)
        #expect(ingress.finished() == .none, "another batch still commits")
        #expect(ingress.finished() == .none, "nothing commits, but 5 waits for the window: the last batch held 3")
        #expect(ingress.windowElapsed() == .commit([5]))
        #expect(ingress.finished() == .none)
        #expect(ingress.inFlight == 0 && ingress.waitingCount == 0)

        var completions = GroupCommit<Int>()
        _ = completions.arrived(1)
        _ = completions.arrived(2)
        _ = completions.arrived(3)
        #expect(completions.finished() == .commit([2, 3]), "without a window, what waits goes at once")
    }

    /// N callers that each send again once answered: after a batch of three, a lone arrival waits, while
    /// nothing commits, for three to wait (or the window); after a batch of one, the next goes at once.
    @Test func withAWindowBatchesKeepTheirSizeWhileNothingCommits() {
        var ingress = Self.ingress(after: 1...4)
        #expect(ingress.finished() == .none)
        #expect(ingress.finished() == .none)
        #expect(ingress.windowElapsed() == .none)
        #expect(ingress.arrived(5, bytes: 1) == .startTimer(.milliseconds(2)), "5 waits: the last batch held 3")
        #expect(ingress.arrived(6, bytes: 1) == .none)
        #expect(ingress.arrived(7, bytes: 1) == .commit([5, 6, 7]))
        #expect(ingress.finished() == .none)
        #expect(ingress.windowElapsed() == .none)
        #expect(ingress.arrived(8, bytes: 1) == .startTimer(.milliseconds(2)))
        #expect(ingress.windowElapsed() == .commit([8]), "the window bounds the wait")
        #expect(ingress.finished() == .none)
        #expect(ingress.arrived(9, bytes: 1) == .commit([9]), "after a batch of one, at once")
    }

    /// Random arrivals, timers and finishing batches, many times over, checked against a model of the rules:
    /// every item arrived goes in exactly one batch, in arrival order, a batch goes exactly when the rules say
    /// and holds as many items as the bounds allow, nothing waits while nothing commits but for the window, and
    /// once everything has finished nothing is left. Stops at the first counterexample.
    @Test(arguments: [false, true])
    func everyItemGoesInExactlyOneBatchInArrivalOrder(ingressConfiguration: Bool) throws {
        var random = SplitMix64(seed: ingressConfiguration ? 7 : 11)
        for _ in 0..<500 {
            var run =
                ingressConfiguration
                ? Run(machine: Self.ingress(), maxBatch: 3, maxBatchBytes: 100, window: .milliseconds(2))
                : Run(machine: GroupCommit(), maxBatch: nil, maxBatchBytes: nil, window: nil)
            for _ in 0..<Int.random(in: 1...200, using: &random) {
                switch Int.random(in: 0..<10, using: &random) {
                case 0..<5:
                    let large = Int.random(in: 0..<10, using: &random) == 0
                    try run.arrive(bytes: large ? 150 : .random(in: 0...60, using: &random))
                case 5..<7 where run.timerStarted:
                    try run.windowElapses()
                case 7..<10 where run.machine.inFlight > 0:
                    try run.finishOne()
                default:
                    break
                }
            }
            // Bounded, so that a machine that never drains fails rather than hangs.
            var steps = 0
            while (run.machine.inFlight > 0 || run.timerStarted) && steps < 10_000 {
                if run.timerStarted { try run.windowElapses() }
                if run.machine.inFlight > 0 { try run.finishOne() }
                steps += 1
            }
            try #require(run.batches.joined().elementsEqual(run.bytes.indices), "each item once, in arrival order")
            try #require(run.machine.waitingCount == 0 && run.machine.inFlight == 0 && !run.timerStarted)
            if !ingressConfiguration { try #require(run.mostInFlight <= 1, "one statement at a time") }
        }
    }
}

/// One random run: the machine, the items arrived (item `i` has `bytes[i]` bytes), the batches handed out,
/// and what the rules say of each event, checked as it happens.
private struct Run {
    var machine: GroupCommit<Int>
    let maxBatch: Int?
    let maxBatchBytes: Int?
    let window: Duration?
    var bytes: [Int] = []
    var batches: [[Int]] = []
    var handedOut = 0
    var timerStarted = false
    var mostInFlight = 0
    /// With a window, how many must wait, while nothing commits, before they go: the last batch's size.
    var holdFor = 1

    /// The items arrived and not yet handed out, if the machine keeps arrival order.
    var waiting: Range<Int> { handedOut..<bytes.count }

    mutating func arrive(bytes size: Int) throws {
        let item = bytes.count
        bytes.append(size)
        let goes =
            (machine.inFlight == 0 && waiting.count >= holdFor) || waiting.count >= (maxBatch ?? .max)
            || waiting.map { bytes[$0] }.reduce(0, +) >= (maxBatchBytes ?? .max)
        let action = machine.arrived(item, bytes: size)
        if !goes, let window, !timerStarted {
            try #require(action == .startTimer(window), "the first to wait starts the timer")
            timerStarted = true
        } else {
            try check(action, goes: goes)
        }
    }

    mutating func windowElapses() throws {
        let goes = !waiting.isEmpty
        let action = machine.windowElapsed()
        timerStarted = false
        try check(action, goes: goes)
    }

    mutating func finishOne() throws {
        let last = machine.inFlight == 1
        let goes = last && !waiting.isEmpty && waiting.count >= holdFor
        let action = machine.finished()
        if last, !goes, !waiting.isEmpty, let window, !timerStarted {
            try #require(action == .startTimer(window), "what waits without a timer gets one")
            timerStarted = true
        } else {
            try check(action, goes: goes)
        }
    }

    /// The action commits exactly when the rules say, and then the first waiting items: within the bounds (the
    /// first always goes), and all of them unless the next would break a bound.
    private mutating func check(_ action: GroupCommit<Int>.Action, goes: Bool) throws {
        if goes {
            let batch = try #require(action.batch, "a batch goes")
            let total = batch.map { bytes[$0] }.reduce(0, +)
            try #require(batch.elementsEqual(waiting.prefix(batch.count)), "the first waiting items, in order")
            try #require(!batch.isEmpty && batch.count <= (maxBatch ?? .max))
            try #require(batch.count == 1 || total <= (maxBatchBytes ?? .max))
            if batch.count < waiting.count {
                let next = bytes[waiting.lowerBound + batch.count]
                try #require(batch.count == maxBatch || total + next > (maxBatchBytes ?? .max), "as many as fit")
            }
            batches.append(batch)
            handedOut += batch.count
            if window != nil { holdFor = batch.count }
        } else {
            try #require(action == .none)
        }
        mostInFlight = max(mostInFlight, machine.inFlight)
        try #require(
            machine.inFlight > 0 || machine.waitingCount == 0 || timerStarted,
            "nothing waits while nothing commits, but for the window")
        try #require(machine.waitingCount == waiting.count)
    }
}

extension GroupCommit.Action {
    fileprivate var batch: [Item]? {
        guard case .commit(let batch) = self else { return nil }
        return batch
    }
}

/// A seeded generator, so that a failing run can be replayed.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
