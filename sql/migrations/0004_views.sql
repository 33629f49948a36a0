-- Views for the questions operators ask most, readable from psql. See sql/inspect.sql for recipes.

-- Jobs in the hot table by account and state, with the oldest of each.
CREATE VIEW hookline.queue_depth AS
SELECT account_id, state, count(*) AS jobs, min(received_at) AS oldest_received, min(run_at) AS earliest_run_at
FROM hookline.jobs
GROUP BY account_id, state;

-- How long the oldest job that could run now has been waiting, per account.
CREATE VIEW hookline.oldest_waiting AS
SELECT account_id, count(*) AS waiting, now() - min(run_at) AS oldest_wait
FROM hookline.jobs
WHERE state = 'available' AND run_at <= now()
GROUP BY account_id;

-- Dead jobs with their last error, newest first.
CREATE VIEW hookline.dead_jobs AS
SELECT id, account_id, cycle_id, webhook_id, attempt, max_attempts, finished_at, last_error,
       jsonb_array_length(errors) AS errors
FROM hookline.job_history
WHERE state = 'dead'
ORDER BY finished_at DESC;

-- Finished jobs per minute and final state, over the last hour.
CREATE VIEW hookline.throughput_per_minute AS
SELECT date_trunc('minute', finished_at) AS minute, state, count(*) AS jobs
FROM hookline.job_history
WHERE finished_at > now() - interval '1 hour'
GROUP BY 1, 2
ORDER BY 1 DESC, 2;
