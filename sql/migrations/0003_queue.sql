-- The hot queue churns: every job is inserted, updated at least twice (claimed, finished or retried) and
-- deleted. Dead tuples left by that churn are what slow SKIP LOCKED scans down, so:
--  * fillfactor 70 leaves room on each page for the claim's and the retry's updates to stay on the page
--    (HOT updates: no new index entries for the columns no index covers);
--  * autovacuum runs after 1% of the table changed instead of 20%, with no cost delay, so that dead
--    tuples are reclaimed within seconds under load rather than piling up;
--  * analyze follows at 2% so that the planner keeps choosing the partial claim index.
ALTER TABLE hookline.jobs SET (
    fillfactor = 70,
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0,
    autovacuum_analyze_scale_factor = 0.02
);

-- Moves jobs out of the hot table into job_history in one statement, so that every way a job finishes
-- (completed, dead, cancelled) copies the same columns. `error` replaces last_error and `error_entry` is
-- appended to the error history when given. Returns the ids moved.
CREATE FUNCTION hookline.move_to_history(
    job_ids bigint[], final_state text, final_outcome text, error text DEFAULT NULL, error_entry jsonb DEFAULT NULL
) RETURNS SETOF bigint LANGUAGE sql AS $$
    WITH moved AS (
        DELETE FROM hookline.jobs WHERE id = ANY(job_ids) RETURNING *
    )
    INSERT INTO hookline.job_history
        (id, account_id, webhook_id, cycle_id, cycle_version, parent_id, state, outcome, priority, attempt,
         max_attempts, step_outputs, headers, content_type, body, idempotency_key, received_at, last_error, errors)
    SELECT id, account_id, webhook_id, cycle_id, cycle_version, parent_id, final_state, final_outcome, priority,
           attempt, max_attempts, step_outputs, headers, content_type, body, idempotency_key, received_at,
           coalesce(error, last_error), CASE WHEN error_entry IS NULL THEN errors ELSE errors || error_entry END
    FROM moved
    RETURNING id
$$;
