"""Phase 7, the drain: --drain-jobs queued jobs on a cycle with one passing filter step, `hookline work` with 1
and then 2 processes."""
import time

from .context import note
from .database import psql, reset_queue
from .processes import anon_mib, peak_rss_mib, start, stop, worker_pids


def fill(bench):
    """An emptied queue, then --drain-jobs available jobs on the bench's cycle (one passing filter step), the
    table vacuumed and analysed: what the drain, and the claim phase after it, start from."""
    reset_queue(bench)
    psql(bench, f"""
        INSERT INTO hookline.jobs (account_id, webhook_id, cycle_id, cycle_version, max_attempts, content_type, body)
        SELECT '{bench.account}', '{bench.webhook}', '{bench.cycle}', 1, 6, 'application/json',
               convert_to('{{"type":"order.created","n":' || g || '}}', 'UTF8')
        FROM generate_series(1, {bench.args.drain_jobs}) g""")
    psql(bench, "VACUUM ANALYZE hookline.jobs")


def drain(bench, processes):
    fill(bench)
    began = time.monotonic()
    began_at = psql(bench, "SELECT clock_timestamp()")
    work = start(bench, [bench.hookline, "work", "--processes", str(processes),
                         "--concurrency", str(bench.args.worker_concurrency), "--claim-batch", str(bench.args.claim_batch),
                         "--log-level", "error"], f"work-{processes}")
    peak = 0.0
    anon = 0.0
    while True:
        time.sleep(1.0)
        pids = worker_pids(work)
        for pid in pids:
            try:
                peak = max(peak, peak_rss_mib(pid))
                anon = max(anon, anon_mib(pid))
            except OSError:
                pass
        # Once a second, and EXISTS, which stops at the first live row: every psql here is a process and a
        # new backend, and a count(*) scanned the whole table, all CPU taken from the drain it measures.
        if psql(bench, "SELECT EXISTS (SELECT 1 FROM hookline.jobs)") == "f":
            break
        if time.monotonic() - began > 600:
            raise SystemExit("bench: the drain took over 10 minutes")
    # Timed by the database: from just before the workers started to the last job's finish.
    elapsed = float(psql(bench,
                         f"SELECT extract(epoch FROM max(finished_at) - '{began_at}'::timestamptz) FROM hookline.job_history"))
    stop(work)
    done = psql(bench, "SELECT count(*) || ' ' || count(*) FILTER (WHERE outcome = 'succeeded') FROM hookline.job_history")
    runs = int(psql(bench, "SELECT count(*) FROM hookline.step_runs"))
    if done != f"{bench.args.drain_jobs} {bench.args.drain_jobs}" or runs != bench.args.drain_jobs:
        raise SystemExit(f"bench: after the drain: history {done}, step runs {runs}")
    return bench.args.drain_jobs / elapsed, peak, anon


def phase_drain(bench):
    note(f"7/12 drain: {bench.args.drain_jobs} jobs, one filter step, hookline work with 1 process")
    rate1, rss1, anon1 = drain(bench, 1)
    note(f"7/12 drain: {bench.args.drain_jobs} jobs, one filter step, hookline work with 2 processes")
    rate2, rss2, anon2 = drain(bench, 2)
    bench.results["drain_1p_jobs_per_s"] = round(rate1)
    bench.results["drain_2p_jobs_per_s"] = round(rate2)
    bench.results["worker_rss_mib"] = round(max(rss1, rss2), 1)
    # Sampled every second, so a lower bound of the peak.
    bench.results["worker_private_mib"] = round(max(anon1, anon2), 1)
