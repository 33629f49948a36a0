"""Phase 9, the latency: webhooks at a steady rate with workers running, received to first step started. The
rate is half the ingress's maximum measured in this run (ingress_rps), or 200 a second when the ingress phase
did not run; wrk paces it (benchlib/load.py's paced_script: a fixed schedule, 64 connections). The workers run
with the drain's settings (--worker-concurrency, --claim-batch): at their defaults (8 jobs at once per process,
so claims of 8, a commit each) two processes fell behind at 4,000 webhooks/s here, and the figure measured the
backlog growing (p50 8-12 s), not the pipeline."""
import os
import re
import time

from .context import note
from .database import psql, reset_queue
from .load import paced_script, run_wrk, wrk_counts, wrk_ms
from .processes import children_cpu_seconds, cpu_seconds, machine_cpu_seconds, start, stop, worker_pids

CONNECTIONS = 64


def phase_latency(bench):
    if bench.args.latency_rate:
        rate = bench.args.latency_rate
        why = "--latency-rate"
    elif "ingress_rps" in bench.results:
        rate = bench.results["ingress_rps"] / 2
        why = f"half the ingress's {bench.results['ingress_rps']:.0f}"
    else:
        rate = 200.0
        why = "the ingress phase did not run, so not half its maximum"
    note(f"9/12 latency: {rate:.0f} webhooks/s ({why}) for {bench.args.seconds} s with hookline work running "
         f"({bench.args.latency_processes} processes)")
    reset_queue(bench)
    work = start(bench, [bench.hookline, "work", "--processes", str(bench.args.latency_processes),
                         "--concurrency", str(bench.args.worker_concurrency), "--claim-batch", str(bench.args.claim_batch),
                         "--log-level", "error"], "work-latency")
    time.sleep(2)
    script = paced_script(bench, rate, "latency.lua")
    # Two seconds of the same load first, not counted: the pools open their connections as load needs them.
    run_wrk(bench, 2, connections=CONNECTIONS, script=script)
    measured_from = psql(bench, "SELECT clock_timestamp()")
    workers = worker_pids(work)
    serve_before, workers_before = cpu_seconds(bench.serve.pid), sum(map(cpu_seconds, workers))
    machine_before, wrk_before, wall_before = machine_cpu_seconds(), children_cpu_seconds(), time.monotonic()
    output = run_wrk(bench, bench.args.seconds, connections=CONNECTIONS, script=script)
    # Where the machine's CPU went while the load ran (the workers' share of the backlog left at its end, if
    # any, is not in it): a latency that measures queueing shows as a machine with no idle time left.
    serve_cpu, workers_cpu = cpu_seconds(bench.serve.pid) - serve_before, sum(map(cpu_seconds, workers)) - workers_before
    machine_cpu, wrk_cpu = machine_cpu_seconds() - machine_before, children_cpu_seconds() - wrk_before
    busy = machine_cpu / ((time.monotonic() - wall_before) * os.cpu_count())
    deadline = time.time() + 60
    while int(psql(bench, "SELECT count(*) FROM hookline.jobs")) > 0 and time.time() < deadline:
        time.sleep(0.2)
    stop(work)
    accepted, achieved, other = wrk_counts(output)
    if other:
        raise SystemExit(f"bench: {other} of the paced requests were not answered 202")
    # Received to first step started, and its parts: received to the start of the claim that took the job (a
    # job finished in its claim's transaction has that transaction's start as finished_at), and from there to
    # the step (the claim's SELECT). wrk's own latency is from sending to the answer: the ingress's part.
    def pct(column, fraction):
        return f"round(percentile_cont({fraction}) WITHIN GROUP (ORDER BY {column})::numeric, 2)"
    figures = psql(bench, f"""
        SELECT concat_ws(' ', {pct('total', 0.5)}, {pct('total', 0.99)}, count(*), {pct('to_claim', 0.5)},
                         {pct('to_claim', 0.99)}, {pct('in_claim', 0.5)}, {pct('in_claim', 0.99)})
        FROM (SELECT extract(epoch FROM s.started_at - h.received_at) * 1000 AS total,
                     extract(epoch FROM h.finished_at - h.received_at) * 1000 AS to_claim,
                     extract(epoch FROM s.started_at - h.finished_at) * 1000 AS in_claim
              FROM hookline.job_history h JOIN hookline.step_runs s ON s.job_id = h.id AND s.step_id = 'pass'
              WHERE h.received_at >= '{measured_from}'::timestamptz) x
    """).split()
    p50, p99, measured = figures[0], figures[1], figures[2]
    # wrk counts the answers it read before its time was up; the requests still in flight then (at most one per
    # connection, of the warm-up's too, should one commit after measured_from) were accepted as well, and their
    # jobs run: every webhook wrk saw accepted must have its first step recorded.
    if not (accepted <= int(measured) <= accepted + 2 * CONNECTIONS):
        raise SystemExit(f"bench: {accepted} webhooks accepted but {measured} first steps recorded")
    bench.results["latency_rate"] = round(rate)
    bench.results["latency_achieved_per_s"] = round(achieved)
    bench.results["latency_p50_ms"] = float(p50)
    bench.results["latency_p99_ms"] = float(p99)
    bench.results["latency_answer_p50_ms"] = round(wrk_ms(re.search(r"\s50%\s+(\S+)", output).group(1)), 2)
    bench.results["latency_answer_p99_ms"] = round(wrk_ms(re.search(r"\s99%\s+(\S+)", output).group(1)), 2)
    bench.results["latency_to_claim_p50_ms"] = float(figures[3])
    bench.results["latency_to_claim_p99_ms"] = float(figures[4])
    bench.results["latency_in_claim_p50_ms"] = float(figures[5])
    bench.results["latency_in_claim_p99_ms"] = float(figures[6])
    bench.results["latency_machine_busy_pct"] = round(100 * busy, 1)
    for role, seconds in (("serve", serve_cpu), ("workers", workers_cpu), ("wrk", wrk_cpu),
                          ("postgres", machine_cpu - serve_cpu - workers_cpu - wrk_cpu)):
        bench.results[f"latency_{role}_cpu_us"] = round(1e6 * seconds / accepted, 1)
