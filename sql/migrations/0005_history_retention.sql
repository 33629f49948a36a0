-- job_history gets one partition per UTC day, created ahead of time by the workers' maintenance, and
-- retention drops whole partitions: dropping a day costs the same however many jobs it held, and leaves no
-- dead tuples behind, where DELETE would leave a day's worth for vacuum.

-- Creates the partition of one UTC day unless it exists; returns its name when it was created. Rows of that
-- day that already landed in the DEFAULT partition (no worker ran maintenance in time) are moved into it,
-- since PostgreSQL refuses a new partition whose rows sit in the default one.
CREATE FUNCTION hookline.create_history_partition(day date) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    partition_name text := 'job_history_' || to_char(day, 'YYYYMMDD');
    day_start timestamptz := day::timestamp AT TIME ZONE 'UTC';
    day_end timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
BEGIN
    IF to_regclass(format('hookline.%I', partition_name)) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM hookline.job_history_default
               WHERE finished_at >= day_start AND finished_at < day_end) THEN
        ALTER TABLE hookline.job_history DETACH PARTITION hookline.job_history_default;
        EXECUTE format('CREATE TABLE hookline.%I PARTITION OF hookline.job_history FOR VALUES FROM (%L) TO (%L)',
                       partition_name, day_start, day_end);
        WITH moved AS (
            DELETE FROM hookline.job_history_default
            WHERE finished_at >= day_start AND finished_at < day_end RETURNING *
        )
        INSERT INTO hookline.job_history SELECT * FROM moved;
        ALTER TABLE hookline.job_history ATTACH PARTITION hookline.job_history_default DEFAULT;
    ELSE
        EXECUTE format('CREATE TABLE hookline.%I PARTITION OF hookline.job_history FOR VALUES FROM (%L) TO (%L)',
                       partition_name, day_start, day_end);
    END IF;
    RETURN partition_name;
END
$$;

-- The daily housekeeping, run by one worker at a time (others return at once): partitions for today and
-- the next `days_ahead` days; partitions of days more than `keep_days` before today dropped, with the
-- default partition's rows, idempotency keys and step runs of that age; access tokens a day past their
-- expiry deleted (an expired token is refused either way; the day leaves it visible to operators for a
-- while). Returns what it did, one line per action.
CREATE FUNCTION hookline.maintain_history(keep_days integer, days_ahead integer DEFAULT 2)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    today date := (now() AT TIME ZONE 'UTC')::date;
    cutoff timestamptz := (today - keep_days)::timestamp AT TIME ZONE 'UTC';
    created text;
    old record;
    removed bigint;
BEGIN
    IF keep_days < 1 THEN
        RAISE EXCEPTION 'keep_days must be at least 1, not %', keep_days;
    END IF;
    -- 'hookhist' in ASCII, as a bigint: one maintainer at a time.
    IF NOT pg_try_advisory_xact_lock(7525356009463313268) THEN
        RETURN;
    END IF;
    FOR offset_days IN 0..days_ahead LOOP
        created := hookline.create_history_partition(today + offset_days);
        IF created IS NOT NULL THEN
            RETURN NEXT 'created ' || created;
        END IF;
    END LOOP;
    FOR old IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'hookline.job_history'::regclass AND c.relname ~ '^job_history_[0-9]{8}$'
          AND to_date(substr(c.relname, 13), 'YYYYMMDD') < today - keep_days
        ORDER BY c.relname
    LOOP
        EXECUTE format('DROP TABLE hookline.%I', old.relname);
        RETURN NEXT 'dropped ' || old.relname;
    END LOOP;
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
    DELETE FROM hookline.step_runs WHERE started_at < cutoff;
    GET DIAGNOSTICS removed = ROW_COUNT;
    IF removed > 0 THEN
        RETURN NEXT format('deleted %s step runs', removed);
    END IF;
    DELETE FROM hookline.access_tokens WHERE expires_at < now() - interval '1 day';
    GET DIAGNOSTICS removed = ROW_COUNT;
    IF removed > 0 THEN
        RETURN NEXT format('deleted %s expired access tokens', removed);
    END IF;
END
$$;

-- A fresh installation starts with its partitions in place, before any worker ran.
SELECT hookline.maintain_history(31);
