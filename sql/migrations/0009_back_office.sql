-- A manual retry resumes where a job stopped: history keeps the step a dead or cancelled job was to run next
-- (NULL for completed jobs, which have none, and for jobs that finished before this migration).
ALTER TABLE hookline.job_history ADD COLUMN next_step integer;

CREATE OR REPLACE FUNCTION hookline.move_to_history(
    job_ids bigint[], final_state text, final_outcome text, error text DEFAULT NULL, error_entry jsonb DEFAULT NULL
) RETURNS SETOF bigint LANGUAGE sql AS $$
    WITH moved AS (
        DELETE FROM hookline.jobs WHERE id = ANY(job_ids) RETURNING *
    )
    INSERT INTO hookline.job_history
        (id, account_id, webhook_id, cycle_id, cycle_version, parent_id, state, outcome, priority, attempt,
         max_attempts, next_step, step_outputs, headers, content_type, body, idempotency_key, received_at,
         last_error, errors)
    SELECT id, account_id, webhook_id, cycle_id, cycle_version, parent_id, final_state, final_outcome, priority,
           attempt, max_attempts, next_step, step_outputs, headers, content_type, body, idempotency_key, received_at,
           coalesce(error, last_error), CASE WHEN error_entry IS NULL THEN errors ELSE errors || error_entry END
    FROM moved
    RETURNING id
$$;

-- Takes every lock of job_history (the parent and each partition) in ACCESS EXCLUSIVE mode, for the partition
-- changes of the daily maintenance, without ever queueing for long: each try waits at most `timeout_ms`
-- (lock_timeout), then gives the table back for a pause of one to two timeouts. While a request for ACCESS
-- EXCLUSIVE waits, every completion (which writes into job_history) queues behind it; so a long read of the
-- history delays completions by one timeout at most, instead of for as long as the read lasts. Returns
-- whether it got the locks; lock_timeout stays at `timeout_ms` for the rest of the transaction (the caller
-- restores it).
CREATE FUNCTION hookline.lock_history_briefly(timeout_ms integer, attempts integer) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    FOR attempt IN 1..attempts LOOP
        BEGIN
            PERFORM set_config('lock_timeout', timeout_ms || 'ms', true);
            LOCK TABLE hookline.job_history IN ACCESS EXCLUSIVE MODE;
            RETURN true;
        EXCEPTION WHEN lock_not_available THEN
            IF attempt < attempts THEN
                PERFORM pg_sleep(timeout_ms * (1 + random()) / 1000.0);
            END IF;
        END;
    END LOOP;
    RETURN false;
END
$$;

-- The daily housekeeping, as in 0005, with two changes that keep it from stalling the queue:
--  * the pruning comes first and the partition changes last, right before the commit, under locks taken with
--    hookline.lock_history_briefly: ACCESS EXCLUSIVE on job_history is held for milliseconds, not for the
--    whole pruning, and is never waited for behind a long read. When the locks cannot be had within
--    `lock_attempts` tries, the partition changes are left to the next run (partitions are made two days
--    ahead, so an hour's delay costs nothing), and the function says so;
--  * old step runs are found through the primary key rather than by scanning the table (see below).
DROP FUNCTION hookline.maintain_history(integer, integer);
CREATE FUNCTION hookline.maintain_history(
    keep_days integer, days_ahead integer DEFAULT 2, lock_timeout_ms integer DEFAULT 100,
    lock_attempts integer DEFAULT 50
) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    today date := (now() AT TIME ZONE 'UTC')::date;
    cutoff timestamptz := (today - keep_days)::timestamp AT TIME ZONE 'UTC';
    saved_lock_timeout text := current_setting('lock_timeout');
    missing date[];
    old_partitions text[];
    partition_name text;
    created text;
    removed bigint;
    low bigint;
    high bigint;
    middle bigint;
    first_started timestamptz;
BEGIN
    IF keep_days < 1 THEN
        RAISE EXCEPTION 'keep_days must be at least 1, not %', keep_days;
    END IF;
    IF lock_timeout_ms < 1 OR lock_attempts < 1 THEN
        RAISE EXCEPTION 'lock_timeout_ms and lock_attempts must be at least 1';
    END IF;
    -- 'hookhist' in ASCII, as a bigint: one maintainer at a time.
    IF NOT pg_try_advisory_xact_lock(7525356009463313268) THEN
        RETURN;
    END IF;

    DELETE FROM hookline.job_history_default WHERE finished_at < cutoff;
    GET DIAGNOSTICS removed = ROW_COUNT;
    IF removed > 0 THEN
        RETURN NEXT format('deleted %s old rows of job_history_default', removed);
    END IF;
    DELETE FROM hookline.idempotency_keys WHERE created_at < cutoff;
    GET DIAGNOSTICS removed = ROW_COUNT;
    IF removed > 0 THEN
        RETURN NEXT format('deleted %s idempotency keys', removed);
    END IF;
    -- Step runs have no index on started_at (0007 dropped it: one more index entry per step run on the hot
    -- path). Their ids grow with time, and started_at follows the id within minutes (a run is written when
    -- its step starts, or with the checkpoint or completion that follows it), so the first id past the
    -- cutoff is found by bisecting the primary key (a few dozen index probes) and the old rows are deleted
    -- through it. A row out of order near the cutoff waits for the next run; none younger than the cutoff
    -- is ever deleted.
    SELECT min(id), max(id) + 1 INTO low, high FROM hookline.step_runs;
    IF low IS NOT NULL THEN
        WHILE low < high LOOP
            middle := low + (high - low) / 2;
            SELECT started_at INTO first_started FROM hookline.step_runs WHERE id >= middle ORDER BY id LIMIT 1;
            IF first_started < cutoff THEN
                low := middle + 1;
            ELSE
                high := middle;
            END IF;
        END LOOP;
        DELETE FROM hookline.step_runs WHERE id < low AND started_at < cutoff;
        GET DIAGNOSTICS removed = ROW_COUNT;
        IF removed > 0 THEN
            RETURN NEXT format('deleted %s step runs', removed);
        END IF;
    END IF;
    DELETE FROM hookline.access_tokens WHERE expires_at < now() - interval '1 day';
    GET DIAGNOSTICS removed = ROW_COUNT;
    IF removed > 0 THEN
        RETURN NEXT format('deleted %s expired access tokens', removed);
    END IF;

    SELECT array_agg(today + n ORDER BY n) INTO missing
    FROM generate_series(0, days_ahead) AS n
    WHERE to_regclass(format('hookline.%I', 'job_history_' || to_char(today + n, 'YYYYMMDD'))) IS NULL;
    SELECT array_agg(c.relname::text ORDER BY c.relname) INTO old_partitions
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'hookline.job_history'::regclass AND c.relname ~ '^job_history_[0-9]{8}$'
      AND to_date(substr(c.relname, 13), 'YYYYMMDD') < today - keep_days;
    IF missing IS NULL AND old_partitions IS NULL THEN
        RETURN;
    END IF;
    IF NOT hookline.lock_history_briefly(lock_timeout_ms, lock_attempts) THEN
        RETURN NEXT format(
            'postponed the partition changes: job_history stayed busy through %s tries of %s ms',
            lock_attempts, lock_timeout_ms);
        RETURN;
    END IF;
    FOR i IN 1..coalesce(array_length(missing, 1), 0) LOOP
        created := hookline.create_history_partition(missing[i]);
        IF created IS NOT NULL THEN
            RETURN NEXT 'created ' || created;
        END IF;
    END LOOP;
    FOREACH partition_name IN ARRAY coalesce(old_partitions, '{}') LOOP
        EXECUTE format('DROP TABLE hookline.%I', partition_name);
        RETURN NEXT 'dropped ' || partition_name;
    END LOOP;
    PERFORM set_config('lock_timeout', saved_lock_timeout, true);
END
$$;
