-- Finishing a job requires its attempt, not only its worker. A run whose lease ran out while it went on (its
-- heartbeats failed) may be taken over by a new attempt of the same worker, which holds the job under the same
-- `locked_by`: without the attempt, the old run's end would finish the job under the new one while it runs.
--
-- complete_jobs takes each job's attempt (`attempts`, beside `job_ids`; NULL where any attempt of the worker
-- will do). With a null worker (a claim finishing what it ran), the job's stored attempt is not yet counted,
-- so the attempt given is one more than it.
CREATE FUNCTION hookline.complete_jobs(
    worker text, job_ids bigint[], attempts integer[], outcomes text[], outputs jsonb[],
    run_jobs bigint[], run_steps text[], run_attempts integer[], run_started timestamptz[],
    run_finished timestamptz[], run_outcomes text[], run_errors text[], run_statuses integer[], run_rows bigint[]
) RETURNS SETOF bigint LANGUAGE sql AS $$
    WITH input AS (
        SELECT * FROM unnest(job_ids, attempts, outcomes, outputs) AS i(id, attempt, outcome, outputs)
    ),
    moved AS (
        DELETE FROM hookline.jobs j USING input i
        WHERE j.id = i.id
          AND CASE WHEN worker IS NULL THEN j.state = 'available' AND j.xmax = pg_current_xact_id()::xid
                   ELSE j.state = 'running' AND j.locked_by = worker END
          AND (i.attempt IS NULL OR i.attempt = j.attempt + CASE WHEN worker IS NULL THEN 1 ELSE 0 END)
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

-- The form without attempts stays for workers of the previous release while a rolling upgrade runs: it
-- finishes whichever attempt the worker holds, as it did.
CREATE OR REPLACE FUNCTION hookline.complete_jobs(
    worker text, job_ids bigint[], outcomes text[], outputs jsonb[],
    run_jobs bigint[], run_steps text[], run_attempts integer[], run_started timestamptz[],
    run_finished timestamptz[], run_outcomes text[], run_errors text[], run_statuses integer[], run_rows bigint[]
) RETURNS SETOF bigint LANGUAGE sql AS $$
    SELECT hookline.complete_jobs(
        worker, job_ids, NULL::integer[], outcomes, outputs, run_jobs, run_steps, run_attempts, run_started,
        run_finished, run_outcomes, run_errors, run_statuses, run_rows)
$$;
