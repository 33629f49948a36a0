-- Finishing jobs inside the transaction that claimed them. A worker selects available jobs FOR UPDATE SKIP
-- LOCKED, runs at once those whose remaining steps need nothing but memory (filter, map), and in the same
-- transaction moves them to history and leases the others. The row lock is the lease while the transaction
-- lasts: if the worker dies, the transaction is rolled back and the jobs are available as they were. Such a
-- job is never rewritten as `running`: no second row version, no index entries for it, one commit instead
-- of two.
--
-- complete_jobs does both: with a worker, the jobs that worker holds (`running` under its lease); with a null
-- worker, the `available` jobs that the calling transaction itself has locked (xmax is its transaction id:
-- called anywhere else, it finishes nothing), whose attempt it counts, as the claim's UPDATE would have.
CREATE OR REPLACE FUNCTION hookline.complete_jobs(
    worker text, job_ids bigint[], outcomes text[], outputs jsonb[],
    run_jobs bigint[], run_steps text[], run_attempts integer[], run_started timestamptz[],
    run_finished timestamptz[], run_outcomes text[], run_errors text[], run_statuses integer[], run_rows bigint[]
) RETURNS SETOF bigint LANGUAGE sql AS $$
    WITH input AS (
        SELECT * FROM unnest(job_ids, outcomes, outputs) AS i(id, outcome, outputs)
    ),
    moved AS (
        DELETE FROM hookline.jobs j USING input i
        WHERE j.id = i.id
          AND CASE WHEN worker IS NULL THEN j.state = 'available' AND j.xmax = pg_current_xact_id()::xid
                   ELSE j.state = 'running' AND j.locked_by = worker END
        RETURNING j.*, i.outcome AS final_outcome, i.outputs AS final_outputs
    ),
    kept AS (
        INSERT INTO hookline.job_history
            (id, account_id, webhook_id, cycle_id, cycle_version, parent_id, state, outcome, priority, attempt,
             max_attempts, step_outputs, headers, content_type, body, idempotency_key, received_at, last_error,
             errors)
        SELECT id, account_id, webhook_id, cycle_id, cycle_version, parent_id, 'completed', final_outcome, priority,
               attempt + CASE WHEN worker IS NULL THEN 1 ELSE 0 END, max_attempts,
               coalesce(final_outputs, step_outputs), headers, content_type, body, idempotency_key, received_at,
               last_error, errors
        FROM moved
        RETURNING id
    ),
    runs AS (
        SELECT * FROM unnest(run_jobs, run_steps, run_attempts, run_started, run_finished, run_outcomes, run_errors,
                             run_statuses, run_rows)
            AS r(job_id, step_id, attempt, started_at, finished_at, outcome, error, http_status, row_id)
        WHERE r.job_id IN (SELECT id FROM kept)
    ),
    inserted AS (
        INSERT INTO hookline.step_runs (job_id, step_id, attempt, started_at, finished_at, outcome, error, http_status)
        SELECT job_id, step_id, attempt, started_at, finished_at, outcome, error, http_status
        FROM runs WHERE row_id IS NULL
    ),
    finished AS (
        UPDATE hookline.step_runs s
        SET finished_at = r.finished_at, outcome = r.outcome, error = r.error, http_status = r.http_status
        FROM runs r WHERE r.row_id IS NOT NULL AND s.id = r.row_id
    )
    SELECT id FROM kept
$$;
