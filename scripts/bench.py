#!/usr/bin/env python3
"""Hookline's benchmark, run by scripts/bench (which builds hookline, starts a private durable cluster and
sets DATABASE_URL). Measures, on this machine, with everything sharing its cores:

  1. ceiling   pgbench, 32 clients: one statement that checks a token and inserts a ~1 KB job (per webhook,
               the work PostgreSQL must do), each its own transaction
  2. ingress   wrk, 64 connections: 1 KB JSON POSTs with a bearer token to `hookline serve`
  3. drain     200,000 queued jobs on a cycle with one passing filter step, `hookline work` with 1 and 2
               processes
  4. latency   a steady 200 webhooks/s with workers running: received to first step started
  5. soak      (--soak) ingress and workers together for 10 minutes at 70 % of the rate they sustain
               together (measured first: wrk at full speed with the workers running)
  6. mcp       MCP tool calls (a cycle of one map step, bearer auth) with workers running: 32 sessions of
               back-to-back calls (calls/s, p50/p99), then one session's sequential calls (p50/p99)

Prints a table, or with --json one JSON object. This file is the entry: the command line, the phases chosen,
the table; the setup, the phases and what they share are in benchlib/ (see its __init__.py).
"""
import argparse
import atexit
import json
import os
import signal
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import ceiling, drain, ingress, latency, mcp, soak  # noqa: E402
from benchlib.context import Bench  # noqa: E402
from benchlib.database import psql  # noqa: E402
from benchlib.fixture import prepare  # noqa: E402
from benchlib.processes import stop  # noqa: E402

PHASES = {  # the phases, in the order they run
    "ceiling": ceiling.phase_ceiling, "ingress": ingress.phase_ingress, "drain": drain.phase_drain,
    "latency": latency.phase_latency, "soak": soak.phase_soak, "mcp": mcp.phase_mcp,
}

parser = argparse.ArgumentParser()
parser.add_argument("--hookline", required=True)
parser.add_argument("--json", action="store_true")
parser.add_argument("--soak", action="store_true", help="also run the 10-minute soak")
parser.add_argument("--seconds", type=int, default=20, help="length of the pgbench, wrk and latency runs")
parser.add_argument("--drain-jobs", type=int, default=200_000)
parser.add_argument("--soak-seconds", type=int, default=600)
parser.add_argument("--worker-concurrency", type=int, default=2000)
parser.add_argument("--claim-batch", type=int, default=1000)
parser.add_argument("--latency-processes", type=int, default=2)
parser.add_argument("--mcp-sessions", type=int, default=32, help="concurrent MCP sessions of the mcp phase's load")
parser.add_argument("--mcp-seconds", type=int, default=None,
                    help="length of each of the mcp phase's two runs (default: --seconds)")
parser.add_argument("--only", default="ceiling,ingress,drain,latency,mcp",
                    help="the phases to run (comma-separated): ceiling, ingress, drain, latency, soak, mcp")
args = parser.parse_args()
phases = set(args.only.split(",")) | ({"soak"} if args.soak else set())

bench = Bench(args=args, url=os.environ["DATABASE_URL"], hookline=args.hookline, env=dict(os.environ),
              work_dir=tempfile.mkdtemp(prefix="hookline-bench-"))
# Whatever ends the run (a failed phase, Ctrl-C), no hookline process it started outlives it.
atexit.register(lambda: [stop(child, timeout=10) for child in bench.children])
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
prepare(bench)

for name, phase in PHASES.items():  # in this order, whatever the order of --only
    if name in phases:
        phase(bench)

results = bench.results
stop(bench.serve)
results["machine"] = f"{os.cpu_count()} cores, {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB"
results["postgresql"] = psql(bench, "SHOW server_version")

if args.json:
    print(json.dumps(results, sort_keys=True))
else:
    targets = {
        "ingress_vs_ceiling": ">= 2.0", "ingress_p99_ms": "<= 20", "drain_2p_jobs_per_s": ">= 25000",
        "latency_p50_ms": "<= 5", "latency_p99_ms": "<= 20", "ingress_rss_mib": "<= 64", "worker_rss_mib": "<= 48",
        "soak_decay_pct": "<= 10", "mcp_1s_p50_ms": "<= 10",
    }
    print(f"{'figure':<28} {'value':>14}  target")
    for key, value in results.items():
        shown = value if not isinstance(value, list) else " ".join(map(str, value))
        print(f"{key:<28} {str(shown):>14}  {targets.get(key, '')}")
