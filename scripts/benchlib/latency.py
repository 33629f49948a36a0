"""Phase 4, the latency: a steady 200 webhooks/s with workers running, received to first step started."""
import time

from .context import note
from .database import psql, reset_queue
from .load import paced_load
from .processes import start, stop


def phase_latency(bench):
    note(f"4/6 latency: 200 webhooks/s for {bench.args.seconds} s with hookline work running "
         f"({bench.args.latency_processes} processes)")
    reset_queue(bench)
    work = start(bench, [bench.hookline, "work", "--processes", str(bench.args.latency_processes), "--log-level", "error"],
                 "work-latency")
    time.sleep(2)
    # Two seconds of the same load first, not counted: the pools open their connections as load needs them.
    paced_load(bench, 200, 2)
    measured_from = psql(bench, "SELECT clock_timestamp()")
    accepted, other = paced_load(bench, 200, bench.args.seconds)
    deadline = time.time() + 60
    while int(psql(bench, "SELECT count(*) FROM hookline.jobs")) > 0 and time.time() < deadline:
        time.sleep(0.2)
    stop(work)
    if other:
        raise SystemExit(f"bench: {other} of the paced requests were not answered 202")
    p50, p99, measured = psql(bench, f"""
        SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2) || ' ' ||
               round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 2) || ' ' || count(*)
        FROM (SELECT extract(epoch FROM s.started_at - h.received_at) * 1000 AS ms
              FROM hookline.job_history h JOIN hookline.step_runs s ON s.job_id = h.id AND s.step_id = 'pass'
          WHERE h.received_at >= '{measured_from}'::timestamptz) x
    """).split()
    if int(measured) != accepted:
        raise SystemExit(f"bench: {accepted} webhooks accepted but {measured} first steps recorded")
    bench.results["latency_p50_ms"] = float(p50)
    bench.results["latency_p99_ms"] = float(p99)
