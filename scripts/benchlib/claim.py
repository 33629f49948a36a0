"""Phase 8, the claim ceiling: the drain's queue (--drain-jobs jobs on the one-filter-step cycle, filled as the
drain fills it) drained by pgbench running the bare SQL of a worker's loop, no Swift: each transaction claims up
to 50 available jobs with the worker's claim (JobQueue.claim: FOR UPDATE SKIP LOCKED, highest priority, then
oldest) and finishes them in the same transaction with the worker's statement (hookline.complete_jobs with no
worker: the jobs this transaction locked moved into job_history as succeeded with the filter's output, one
`pass` step run each, as a worker records a job of a pure cycle finished in its claim).
claim_ceiling_jobs_per_s is timed as the drain is, from just before pgbench starts to the last job's finish;
drain_vs_claim_ceiling is drain_2p_jobs_per_s over it."""
import math
import os
import subprocess

from .context import note
from .database import psql
from .drain import fill
from .processes import children_cpu_seconds, machine_cpu_seconds

BATCH = 50  # jobs claimed per transaction
# pgbench clients: 4. On the 2-core development machine (20,000 jobs, while another engineer's builds and tests
# ran, six runs each): 2 clients 8,800-12,300 jobs/s, 4 clients 11,000-14,950, 8 clients 11,400-15,300. Two
# leave the cores idle while each waits for its commit's WAL flush; eight were no faster than four (each claim
# skips the rows the others hold), so four, the fewest that drain fastest.
CLIENTS = 4

SCRIPT = f"""BEGIN;
SELECT coalesce(array_agg(id ORDER BY id), '{{}}') AS ids, coalesce(array_agg(attempt ORDER BY id), '{{}}') AS attempts,
       count(*) AS n
FROM (
    SELECT id, account_id, webhook_id, cycle_id, cycle_version, attempt + 1 AS attempt, max_attempts, next_step,
           step_outputs, headers, content_type, body, received_at, now() + make_interval(secs => 30.0) AS lease
    FROM hookline.jobs
    WHERE state = 'available' AND run_at <= now()
    ORDER BY priority DESC, run_at, id
    LIMIT {BATCH}
    FOR UPDATE SKIP LOCKED
) claimed \\gset
SELECT hookline.complete_jobs(
    NULL, :ids::bigint[], :attempts::integer[], array_fill('succeeded'::text, ARRAY[:n::integer]),
    array_fill('{{"pass": {{"matched": true}}}}'::jsonb, ARRAY[:n::integer]),
    :ids::bigint[], array_fill('pass'::text, ARRAY[:n::integer]), :attempts::integer[],
    array_fill(now(), ARRAY[:n::integer]), array_fill(clock_timestamp(), ARRAY[:n::integer]),
    array_fill('succeeded'::text, ARRAY[:n::integer]), array_fill(NULL::text, ARRAY[:n::integer]),
    array_fill(NULL::integer, ARRAY[:n::integer]), array_fill(NULL::bigint, ARRAY[:n::integer]));
END;
"""


def claim_ceiling(bench, clients):
    """Fills the queue, drains it with `clients` pgbench clients, checks every job reached history; returns jobs
    a second and PostgreSQL's CPU per job in µs."""
    fill(bench)
    script = os.path.join(bench.work_dir, "claim.sql")
    with open(script, "w") as f:
        f.write(SCRIPT)
    jobs = bench.args.drain_jobs
    # Enough transactions for every job and a few to spare (at the end a claim may find fewer than 50 rows
    # unlocked); the spare ones find the queue empty.
    transactions = math.ceil(jobs / (BATCH * clients)) + 2
    began_at = psql(bench, "SELECT clock_timestamp()")
    machine_before, pgbench_before = machine_cpu_seconds(), children_cpu_seconds()
    run = subprocess.run(
        ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", str(min(clients, 2)), "-t", str(transactions),
         "-f", script, bench.url],
        capture_output=True, text=True)
    machine_cpu, pgbench_cpu = machine_cpu_seconds() - machine_before, children_cpu_seconds() - pgbench_before
    if run.returncode != 0:  # a client that met an error aborted: pgbench exits 2
        raise SystemExit(f"bench: pgbench failed: {run.stderr}\n{run.stdout}")
    elapsed = float(psql(bench,
                         f"SELECT extract(epoch FROM max(finished_at) - '{began_at}'::timestamptz) FROM hookline.job_history"))
    left = int(psql(bench, "SELECT count(*) FROM hookline.jobs"))
    done = psql(bench, "SELECT count(*) || ' ' || count(*) FILTER (WHERE outcome = 'succeeded') FROM hookline.job_history")
    runs = int(psql(bench, "SELECT count(*) FROM hookline.step_runs WHERE step_id = 'pass' AND outcome = 'succeeded'"))
    if left != 0 or done != f"{jobs} {jobs}" or runs != jobs:
        raise SystemExit(f"bench: after the claim ceiling: {left} jobs left, history {done}, step runs {runs}")
    return jobs / elapsed, 1e6 * (machine_cpu - pgbench_cpu) / jobs


def phase_claim(bench):
    note(f"8/12 claim: {bench.args.drain_jobs} jobs drained by pgbench ({CLIENTS} clients): claim {BATCH} with "
         "FOR UPDATE SKIP LOCKED, finish them into history, one transaction")
    rate, postgres_cpu = claim_ceiling(bench, CLIENTS)
    bench.results["claim_ceiling_jobs_per_s"] = round(rate)
    bench.results["claim_postgres_cpu_us"] = round(postgres_cpu, 1)
    if "drain_2p_jobs_per_s" in bench.results:
        bench.results["drain_vs_claim_ceiling"] = round(bench.results["drain_2p_jobs_per_s"] / rate, 2)
