"""After the drain: every acknowledged delivery accounted for, from the database and the destination's log."""
import os
import re
import subprocess
import tempfile


def psql(url, sql, env=None):
    done = subprocess.run(["psql", url, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-F", "\t"], input=sql,
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return [line.split("\t") for line in done.stdout.splitlines() if line]


def account(url, provider, destination):
    """The figures of the table: what the provider was answered, set against what the database holds and
    what the destination was called with."""
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as ids:
        for delivery, job in provider.acked.items():
            ids.write(f"{delivery}\t{job}\t{provider.route(delivery)}\n")
        path = ids.name
    try:
        rows = psql(url, f"""
CREATE TEMP TABLE acked (delivery text, job bigint, route text);
\\copy acked FROM '{path}'
CREATE TEMP TABLE everything AS
  SELECT id, state, attempt, last_error, idempotency_key, webhook_id, 'hot' AS place FROM hookline.jobs
  UNION ALL SELECT id, state, attempt, last_error, idempotency_key, webhook_id, 'history' FROM hookline.job_history;
SELECT 'lost', count(*) FROM acked a WHERE NOT EXISTS (SELECT 1 FROM everything e WHERE e.id = a.job);
SELECT 'sharing_a_job', count(*) - count(DISTINCT job) FROM acked;
SELECT 'foreign_key', count(*) FROM acked a JOIN everything e ON e.id = a.job
  WHERE e.idempotency_key IS DISTINCT FROM a.delivery;
SELECT 'jobs_per_delivery_over_1', count(*) FROM (
  SELECT webhook_id, idempotency_key FROM everything WHERE webhook_id IS NOT NULL
  GROUP BY 1, 2 HAVING count(*) > 1) d;
SELECT 'finished_twice', count(*) FROM (SELECT id FROM everything GROUP BY id HAVING count(*) > 1) d;
SELECT 'left_in_hot_table', count(*) FROM hookline.jobs;
SELECT 'completed', count(*) FROM acked a JOIN everything e ON e.id = a.job
  WHERE a.route = 'accept' AND e.state = 'completed';
SELECT 'dead_refused', count(*) FROM acked a JOIN everything e ON e.id = a.job
  WHERE a.route = 'refuse' AND e.state = 'dead';
SELECT 'dead_without_reason', count(*) FROM acked a JOIN everything e ON e.id = a.job
  WHERE e.state = 'dead' AND coalesce(e.last_error, '') = '';
SELECT 'unexpected_end', count(*) FROM acked a JOIN everything e ON e.id = a.job
  WHERE (a.route = 'accept' AND e.state <> 'completed') OR (a.route = 'refuse' AND e.state <> 'dead');
SELECT 'hot_table_bytes', pg_total_relation_size('hookline.jobs');
SELECT 'job', e.id, e.attempt, e.state FROM acked a JOIN everything e ON e.id = a.job WHERE a.route = 'accept';
""")
    finally:
        os.unlink(path)
    figures = {row[0]: int(row[1]) for row in rows if row[0] != "job"}
    accepted = [(int(row[1]), int(row[2]), row[3]) for row in rows if row[0] == "job"]

    # The destination: every call carries `<job id>-send`; a repeated call repeats the same key.
    acked_jobs = set(provider.acked.values())
    pattern = re.compile(r"^(\d+)-send$")
    foreign = sum(1 for key in destination.calls if not (m := pattern.match(key)) or int(m.group(1)) not in acked_jobs)
    figures["calls"] = sum(destination.calls.values())
    figures["keyless_calls"] = destination.keyless
    figures["calls_for_unknown_jobs"] = foreign
    figures["keys_called_more_than_once"] = sum(1 for count in destination.calls.values() if count > 1)
    figures["repeated_calls"] = sum(count - 1 for count in destination.calls.values() if count > 1)
    figures["keys_answered_2xx_more_than_once"] = sum(1 for count in destination.answered_ok.values() if count > 1)
    # From the destination's side, not the database's: a job the database records completed must have had its
    # call answered 2xx, and no job's call may have succeeded more often than the job had attempts (a call
    # made again is at-least-once delivery after an interrupted attempt; a second success within one attempt
    # is a job run twice). The database alone cannot show either: finishing a job moves its one row.
    figures["completed_without_a_2xx"] = sum(
        1 for job, _, state in accepted if state == "completed" and not destination.answered_ok[f"{job}-send"])
    figures["succeeded_beyond_attempts"] = sum(
        1 for job, attempt, _ in accepted if destination.answered_ok[f"{job}-send"] > max(attempt, 1))
    figures["finished_twice"] += figures["succeeded_beyond_attempts"]
    return figures


def failures(figures, provider, drained):
    """What the accounting says went wrong, one line each (the run fails if there is any)."""
    found = []
    if figures["lost"]:
        found.append("acknowledged deliveries were lost")
    if figures["sharing_a_job"] or figures["foreign_key"]:
        found.append("a delivery was acknowledged with a job that is not its own")
    if provider.malformed:
        found.append("a 2xx answer carried no job id")
    if figures["finished_twice"] or figures["jobs_per_delivery_over_1"] or provider.conflicting:
        found.append("a delivery became two jobs, or a job finished twice")
    if figures["left_in_hot_table"] or not drained:
        found.append("jobs were left in the hot table")
    if figures["unexpected_end"] or figures["dead_without_reason"]:
        found.append("jobs ended otherwise than expected")
    if figures["completed_without_a_2xx"]:
        found.append("jobs were recorded completed without their call's 2xx at the destination")
    if figures["keyless_calls"] or figures["calls_for_unknown_jobs"]:
        found.append("the destination got calls without their job's key")
    if provider.given_up or provider.refused:
        found.append("deliveries were never acknowledged")
    return found
