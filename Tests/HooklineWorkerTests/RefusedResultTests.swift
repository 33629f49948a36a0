import Foundation
import Hookline
import TestSupport
import Testing

/// A job whose result the database refuses (here a trigger stands in for a data exception no check foresaw)
/// fails alone, for good, with the reason; the jobs claimed and completed with it go on. Before, a job run
/// inside the claim failed the whole claim, every time (no job of the queue ran again), and one completion
/// failed its whole batch.
@Suite("A result the database refuses")
struct RefusedResultTests {
    @Test func aJobWhoseResultIsRefusedFailsAloneWithTheReason() async throws {
        try await CycleFixture.with { fixture in
            try await fixture.database.client.query(
                """
                CREATE FUNCTION hookline.refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.state = 'completed' AND NEW.step_outputs::text LIKE '%poison%' THEN
                        RAISE EXCEPTION 'this result is refused' USING ERRCODE = '22023';
                    END IF;
                    RETURN NEW;
                END $$
                """)
            try await fixture.database.client.query(
                """
                CREATE TRIGGER refuse_poison BEFORE INSERT ON hookline.job_history
                FOR EACH ROW EXECUTE FUNCTION hookline.refuse_poison()
                """)
            let cycle = try await fixture.cycle(
                #"{"name": "copy", "steps": [{"id": "m", "type": "map", "fields": {"name": "/name"}}]}"#)
            var ids: [Int64] = []
            for name in ["a", "b", "poison", "c", "d"] {
                ids.append(try await fixture.enqueue(cycle, #"{"name": "\#(name)"}"#))
            }
            try await fixture.work(within: .seconds(20)) { try await fixture.finished(ids).count == ids.count }
            let finished = try await fixture.finished(ids)
            let poison = ids[2]
            #expect(finished[poison]?.state == "dead")
            #expect(finished[poison]?.attempt == 1, "one attempt, not one a lease")
            #expect(
                finished[poison]?.lastError?.contains("its result could not be stored") == true,
                "\(finished[poison]?.lastError ?? "")")
            #expect(ids.filter { $0 != poison }.allSatisfy { finished[$0]?.state == "completed" })
        }
    }
}
