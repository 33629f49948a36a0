-- Finishing a batch of jobs in one statement: each job leaves the hot table (only if this worker still holds
-- it), enters job_history with its outcome and final step outputs, and its step runs are written (new ones
-- inserted, those begun at a step's start finished). One round trip and one commit per batch, and no update
-- of the job row before it is deleted.
CREATE FUNCTION hookline.complete_jobs(
    worker text, job_ids bigint[], outcomes text[], outputs jsonb[],
    run_jobs bigint[], run_steps text[], run_attempts integer[], run_started timestamptz[],
    run_finished timestamptz[], run_outcomes text[], run_errors text[], run_statuses integer[], run_rows bigint[]
) RETURNS SETOF bigint LANGUAGE sql AS $$
    WITH input AS (
        SELECT * FROM unnest(job_ids, outcomes, outputs) AS i(id, outcome, outputs)
    ),
    moved AS (
        DELETE FROM hookline.jobs j USING input i
        WHERE j.id = i.id AND j.state = 'running' AND j.locked_by = worker
        RETURNING j.*, i.outcome AS final_outcome, i.outputs AS final_outputs
    ),
    kept AS (
        INSERT INTO hookline.job_history
            (id, account_id, webhook_id, cycle_id, cycle_version, parent_id, state, outcome, priority, attempt,
             max_attempts, step_outputs, headers, content_type, body, idempotency_key, received_at, last_error,
             errors)
        SELECT id, account_id, webhook_id, cycle_id, cycle_version, parent_id, 'completed', final_outcome, priority,
               attempt, max_attempts, coalesce(final_outputs, step_outputs), headers, content_type, body,
               idempotency_key, received_at, last_error, errors
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

-- Fewer indexes to keep up on the hot path. jobs (account_id, state) changed with every claim and finish for
-- inspection queries that scan the small hot table as fast without it; step_runs (started_at) is only for the
-- daily pruning, which can scan.
DROP INDEX hookline.jobs_account_state;
DROP INDEX hookline.step_runs_started;
