extension CycleDefinitionParser {
    /// The jobs one delivery can make through a cycle's splits: every split after another runs in each of its
    /// children, so their `max_items` multiply.
    struct FanOut {
        private var jobs = 1
        private var reported = false

        /// Counts a split's `max_items`; the jobs they come to the first time that passes
        /// ``CycleDefinition/splitMaxItemsLimit``, else nil.
        mutating func add(_ maxItems: Int) -> Int? {
            let limit = CycleDefinition.splitMaxItemsLimit
            jobs = min(jobs * maxItems, limit * limit)
            guard jobs > limit, !reported else { return nil }
            reported = true
            return jobs
        }
    }
}
