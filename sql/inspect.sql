-- Ready-to-paste queries for inspecting Hookline from psql (scripts/pg psql, or psql "$DATABASE_URL").

-- Queue depth by account and state.
SELECT * FROM hookline.queue_depth ORDER BY account_id, state;

-- How long the oldest runnable job has waited, per account.
SELECT * FROM hookline.oldest_waiting ORDER BY oldest_wait DESC;

-- The latest dead jobs and why they died.
SELECT id, account_id, attempt, finished_at, left(last_error, 120) AS last_error FROM hookline.dead_jobs LIMIT 20;

-- Throughput per minute over the last hour.
SELECT * FROM hookline.throughput_per_minute;

-- One job: where it is, its state, attempts, error history, and its body as text.
-- \set id 42
SELECT 'jobs' AS "table", id, state, attempt, max_attempts, run_at, locked_by, locked_until, last_error, errors,
       convert_from(body, 'UTF8') AS body
FROM hookline.jobs WHERE id = :id
UNION ALL
SELECT 'job_history', id, state, attempt, max_attempts, finished_at, NULL, NULL, last_error, errors,
       convert_from(body, 'UTF8')
FROM hookline.job_history WHERE id = :id;

-- Running jobs and their leases: who holds what, and for how long still.
SELECT id, account_id, attempt, locked_by, locked_until - now() AS lease_left
FROM hookline.jobs WHERE state = 'running' ORDER BY locked_until;

-- Deliveries received per webhook in the last hour (hot table and history together).
SELECT webhook_id, count(*) FROM (
    SELECT webhook_id FROM hookline.jobs WHERE received_at > now() - interval '1 hour'
    UNION ALL
    SELECT webhook_id FROM hookline.job_history WHERE received_at > now() - interval '1 hour'
) recent GROUP BY webhook_id ORDER BY count(*) DESC;

-- Tokens per client that are still valid.
SELECT c.client_id, c.scope, c.account_id, count(*) AS live_tokens
FROM hookline.access_tokens t JOIN hookline.oauth_clients c ON c.id = t.client_id
WHERE t.revoked_at IS NULL AND t.expires_at > now()
GROUP BY 1, 2, 3 ORDER BY 4 DESC;

-- One job's step log: every attempt at every step of its cycle, in order.
-- \set id 42
SELECT step_id, attempt, outcome, http_status, started_at, finished_at - started_at AS took, left(error, 120) AS error
FROM hookline.step_runs WHERE job_id = :id ORDER BY started_at, id;

-- Which workers hold how many running jobs (locked_by is host/pid/random).
SELECT locked_by, count(*) AS running, min(locked_until - now()) AS shortest_lease_left
FROM hookline.jobs WHERE state = 'running' GROUP BY 1 ORDER BY 2 DESC;

-- Outcomes per cycle and version over the last hour.
SELECT cycle_id, cycle_version, state, outcome, count(*)
FROM hookline.job_history WHERE finished_at > now() - interval '1 hour'
GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4;

-- The versions of job :id's cycle.
SELECT v.cycle_id, v.version, v.created_at, v.definition FROM hookline.cycle_versions v
WHERE v.cycle_id = (SELECT cycle_id FROM hookline.jobs WHERE id = :id
                    UNION ALL SELECT cycle_id FROM hookline.job_history WHERE id = :id LIMIT 1)
ORDER BY v.version;

-- job_history's daily partitions and their sizes (the oldest go after --history-days).
SELECT c.relname AS partition, pg_size_pretty(pg_total_relation_size(c.oid)) AS size
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'hookline.job_history'::regclass ORDER BY 1;
