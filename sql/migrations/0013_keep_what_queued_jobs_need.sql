-- The daily housekeeping of 0009, keeping what a job still queued needs. A job can wait longer than the
-- retention (its cycle stopped, a long backoff or delay): its idempotency key, which answers a repeat of its
-- delivery with its id, and its step runs, which record what it did (an interrupted call among them), were
-- pruned by age all the same, so a repeat after the retention made a second job. They are now pruned only
-- once their job has left the hot table (an anti-join on its primary key); the rest is as in 0009.
CREATE OR REPLACE FUNCTION hookline.maintain_history(
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
    DELETE FROM hookline.idempotency_keys k
    WHERE k.created_at < cutoff AND NOT EXISTS (SELECT 1 FROM hookline.jobs j WHERE j.id = k.job_id);
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
        DELETE FROM hookline.step_runs s
        WHERE s.id < low AND s.started_at < cutoff
          AND NOT EXISTS (SELECT 1 FROM hookline.jobs j WHERE j.id = s.job_id);
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
