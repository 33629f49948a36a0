import Postgres

/// Where a job stands in its cycle: the next step to run and the outputs of those done.
public struct StepCheckpoint: Sendable, Hashable {
    public var nextStep: Int
    public var outputs: PostgresJSON

    public init(nextStep: Int, outputs: PostgresJSON) {
        self.nextStep = nextStep
        self.outputs = outputs
    }
}
