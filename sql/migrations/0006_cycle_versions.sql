-- Every version of every cycle's definition. `cycles.definition` and `cycles.version` are the current one
-- (what new jobs are accepted under); a job keeps the version it was accepted under (jobs.cycle_version) and
-- the worker runs that version's steps, so an update never changes a job already queued.
CREATE TABLE hookline.cycle_versions (
    cycle_id    uuid NOT NULL REFERENCES hookline.cycles (id) ON DELETE CASCADE,
    version     integer NOT NULL,
    definition  jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cycle_id, version)
);
INSERT INTO hookline.cycle_versions (cycle_id, version, definition, created_at)
SELECT id, version, definition, updated_at FROM hookline.cycles;

-- The step log: the HTTP status of an `http` step's answer, and `ignored` for a failed step that the
-- cycle's on_error = ignore stepped over.
ALTER TABLE hookline.step_runs ADD COLUMN http_status integer;
ALTER TABLE hookline.step_runs DROP CONSTRAINT step_runs_outcome_check;
ALTER TABLE hookline.step_runs ADD CONSTRAINT step_runs_outcome_check
    CHECK (outcome IN ('succeeded', 'filtered', 'retry', 'failed', 'ignored'));
-- step_runs are pruned by age with the history (hookline.maintain_history).
CREATE INDEX step_runs_started ON hookline.step_runs (started_at);
