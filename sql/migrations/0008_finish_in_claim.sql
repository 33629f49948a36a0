-- Finishing jobs inside the transaction that claimed them. A worker selects available jobs FOR UPDATE SKIP
-- LOCKED, runs at once those whose remaining steps need nothing but memory (filter, map), and in the same
-- transaction moves them to history with this function and leases the others. The row lock is the lease
-- while the transaction lasts: if the worker dies, the transaction is rolled back and the jobs are available
-- as they were. Such a job is never rewritten as `running`: no second row version, no index entries for it,
-- one commit instead of two.
--
-- Only rows that this very transaction has locked are touched (xmax is its transaction id): called anywhere
-- else, the function finishes nothing. The attempt is counted here, as the claim's UPDATE would have.
CREATE FUNCTION hookline.finish_claimed_jobs(
    job_ids bigint[], outcomes text[], outputs jsonb[],
    run_jobs bigint[], run_steps text[], run_attempts integer[], run_started timestamptz[],
    run_finished timestamptz[], run_outcomes text[], run_errors text[]
) RETURNS SETOF bigint LANGUAGE sql AS $$
    WITH input AS (
        SELECT * FROM unnest(job_ids, outcomes, outputs) AS i(id, outcome, outputs)
    ),
    moved AS (
        DELETE FROM hookline.jobs j USING input i
        WHERE j.id = i.id AND j.state = 'available' AND j.xmax = pg_current_xact_id()::xid
        RETURNING j.*, i.outcome AS final_outcome, i.outputs AS final_outputs
    ),
    kept AS (
        INSERT INTO hookline.job_history
            (id, account_id, webhook_id, cycle_id, cycle_version, parent_id, state, outcome, priority, attempt,
             max_attempts, step_outputs, headers, content_type, body, idempotency_key, received_at, last_error,
             errors)
        SELECT id, account_id, webhook_id, cycle_id, cycle_version, parent_id, 'completed', final_outcome, priority,
               attempt + 1, max_attempts, coalesce(final_outputs, step_outputs), headers, content_type, body,
               idempotency_key, received_at, last_error, errors
        FROM moved
        RETURNING id
    ),
    inserted AS (
        INSERT INTO hookline.step_runs (job_id, step_id, attempt, started_at, finished_at, outcome, error)
        SELECT r.job_id, r.step_id, r.attempt, r.started_at, r.finished_at, r.outcome, r.error
        FROM unnest(run_jobs, run_steps, run_attempts, run_started, run_finished, run_outcomes, run_errors)
            AS r(job_id, step_id, attempt, started_at, finished_at, outcome, error)
        WHERE r.job_id IN (SELECT id FROM kept)
    )
    SELECT id FROM kept
$$;
