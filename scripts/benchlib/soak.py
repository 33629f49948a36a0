"""Phase 10, the soak (--soak): first the pipeline's maximum (wrk at full speed with the workers running), then
ingress and workers together for --soak-seconds at 70 % of it."""
import re
import subprocess
import time

from .context import note
from .database import psql, reset_queue
from .load import paced_script, run_wrk
from .processes import start, stop


def pipeline_maximum(bench):
    """Webhooks a second that ingress and workers sustain together: wrk at full speed for --seconds with the
    workers running; the lower of the rate accepted and the rate finished in that window (whichever side
    the shared cores starve is the limit)."""
    reset_queue(bench)
    began = psql(bench, "SELECT clock_timestamp()")
    output = run_wrk(bench, bench.args.seconds)
    ended = psql(bench, "SELECT clock_timestamp()")
    accepted = float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1))
    finished = int(psql(bench, f"""SELECT count(*) FROM hookline.job_history
                            WHERE finished_at BETWEEN '{began}'::timestamptz AND '{ended}'::timestamptz"""))
    seconds = float(psql(bench, f"SELECT extract(epoch FROM '{ended}'::timestamptz - '{began}'::timestamptz)"))
    # Let the backlog of the full-speed run drain before the soak starts.
    deadline = time.time() + 600
    while int(psql(bench, "SELECT count(*) FROM hookline.jobs")) > 0 and time.time() < deadline:
        time.sleep(0.5)
    return accepted, finished / seconds


def phase_soak(bench):
    work = start(bench, [bench.hookline, "work", "--processes", "2", "--concurrency", str(bench.args.worker_concurrency),
                         "--claim-batch", str(bench.args.claim_batch), "--log-level", "error"], "work-soak")
    time.sleep(2)
    note(f"10/12 soak: the pipeline's maximum (wrk at full speed with the workers running, {bench.args.seconds} s)")
    accepted, finished = pipeline_maximum(bench)
    rate = 0.7 * min(accepted, finished)
    note(f"10/12 soak: {rate:.0f} webhooks/s (70 % of the {min(accepted, finished):.0f} ingress and workers "
         f"sustained together) for {bench.args.soak_seconds} s")
    reset_queue(bench)
    size_before = int(psql(bench, "SELECT pg_total_relation_size('hookline.jobs')"))
    soak_began = psql(bench, "SELECT now()")
    paced = paced_script(bench, rate)
    wrk = subprocess.Popen(
        ["wrk", "-t2", "-c64", f"-d{bench.args.soak_seconds}s", "-s", paced, f"{bench.base}/webhooks/{bench.webhook}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sizes, backlogs = [], []
    began = time.monotonic()
    for minute in range(1, bench.args.soak_seconds // 60 + 1):
        time.sleep(max(0, began + 60 * minute - time.monotonic()))
        sizes.append(round(int(psql(bench, "SELECT pg_total_relation_size('hookline.jobs')")) / 2**20, 1))
        backlogs.append(int(psql(bench, "SELECT count(*) FROM hookline.jobs")))
    output, errors = wrk.communicate()
    if wrk.returncode != 0:
        raise SystemExit(f"bench: wrk failed: {errors}")
    offered = float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1))
    non2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", output) or [0, 0])[1])
    size_after = int(psql(bench, "SELECT pg_total_relation_size('hookline.jobs')"))
    stop(work)
    minutes = psql(bench, f"""
        SELECT string_agg(n::text, ' ' ORDER BY m) FROM (
            SELECT date_trunc('minute', finished_at - '{soak_began}'::timestamptz + '2000-01-01'::timestamptz) AS m,
                   count(*) AS n
            FROM hookline.job_history WHERE finished_at >= '{soak_began}'::timestamptz GROUP BY 1) x""").split()
    per_minute = [int(n) for n in minutes]
    full = per_minute[: bench.args.soak_seconds // 60]
    first, last = full[0], full[-1]
    bench.results["pipeline_accepted_per_s"] = round(accepted)
    bench.results["pipeline_finished_per_s"] = round(finished)
    bench.results["soak_rate_per_s"] = round(rate)
    bench.results["soak_offered_per_s"] = round(offered)
    bench.results["soak_non_2xx"] = non2xx
    bench.results["soak_completed_per_minute"] = full
    bench.results["soak_decay_pct"] = round(100.0 * (first - last) / first, 1)
    bench.results["soak_backlog_per_minute"] = backlogs
    bench.results["soak_jobs_table_mib_per_minute"] = sizes
    bench.results["soak_jobs_table_bytes_start"] = size_before
    bench.results["soak_jobs_table_bytes_end"] = size_after
