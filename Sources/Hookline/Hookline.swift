/// Hookline's domain: accounts, OAuth clients and tokens, webhooks, the job queue, cycles, and the schema.
public enum Hookline {
    /// The PostgreSQL schema that holds every Hookline table.
    public static let schema = "hookline"
}
