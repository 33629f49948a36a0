#!/usr/bin/env python3
"""Hookline's benchmark, run by scripts/bench (which builds hookline, starts a private durable cluster and
sets DATABASE_URL). Measures, on this machine, with everything sharing its cores:

  1. ceiling    pgbench, 32 clients: one statement that checks a token and inserts a ~1 KB job (per webhook,
                the work PostgreSQL must do), each its own transaction
  2. insert100  pgbench, 32 clients: one plain INSERT of 100 ~1 KB jobs per transaction (PostgreSQL's CPU per
                row when rows come batched)
  3. ingress    wrk, 64 connections: 1 KB JSON POSTs with a bearer token to `hookline serve`
  4. floor      the same load on hookline-nio-floor (--floor), a minimal SwiftNIO server answering 202: serve's
                CPU per webhook over the floor's (skipped without --floor)
  5. healthz    wrk, 64 connections: GET /healthz to `hookline serve` (its CPU per request, no database)
  6. peer       the ingress's load on a naive FastAPI + uvicorn (2 workers) + asyncpg ingress doing the same
                work per request (installed into .hookline/bench-venv; skipped if that fails)
  7. drain      200,000 queued jobs on a cycle with one passing filter step, `hookline work` with 1 and 2
                processes
  8. claim      the same queue drained by pgbench running the worker's SQL (claim 50 with FOR UPDATE SKIP
                LOCKED, finish them into history), no Swift: the ceiling of the drain
  9. latency    webhooks at half the ingress's maximum (200/s without it) with workers running: received to
                first step started
 10. soak       (--soak) ingress and workers together for 10 minutes at 70 % of the rate they sustain
                together (measured first: wrk at full speed with the workers running)
 11. mcp        MCP tool calls (a cycle of one map step, bearer auth) with workers running: 32 sessions of
                back-to-back calls (calls/s, p50/p99), then one session's sequential calls (p50/p99)
 12. largebodies 40 deliveries of 8 MB at once to `hookline serve`: its resident size before, at the peak and
                2 s after (what large bodies cost, and that it goes back)

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
from benchlib import ceiling, claim, drain, floor, healthz, ingress, insert100, largebodies, latency, mcp, peer, soak  # noqa: E402,E501
from benchlib.context import Bench  # noqa: E402
from benchlib.database import psql  # noqa: E402
from benchlib.fixture import prepare  # noqa: E402
from benchlib.processes import stop  # noqa: E402

PHASES = {  # the phases, in the order they run
    "ceiling": ceiling.phase_ceiling, "insert100": insert100.phase_insert100, "ingress": ingress.phase_ingress,
    "floor": floor.phase_floor, "healthz": healthz.phase_healthz, "peer": peer.phase_peer, "drain": drain.phase_drain,
    "claim": claim.phase_claim, "latency": latency.phase_latency, "soak": soak.phase_soak, "mcp": mcp.phase_mcp,
    "largebodies": largebodies.phase_largebodies,
}

parser = argparse.ArgumentParser()
parser.add_argument("--hookline", required=True)
parser.add_argument("--floor", help="the hookline-nio-floor executable (the floor phase is skipped without it)")
parser.add_argument("--json", action="store_true")
parser.add_argument("--soak", action="store_true", help="also run the 10-minute soak")
parser.add_argument("--seconds", type=int, default=20, help="length of the pgbench, wrk and latency runs")
parser.add_argument("--drain-jobs", type=int, default=200_000)
parser.add_argument("--soak-seconds", type=int, default=600)
parser.add_argument("--worker-concurrency", type=int, default=2000)
parser.add_argument("--claim-batch", type=int, default=1000)
parser.add_argument("--latency-processes", type=int, default=2)
parser.add_argument("--latency-rate", type=float, default=None,
                    help="webhooks/s of the latency phase (default: half the ingress's maximum, or 200 without it)")
parser.add_argument("--mcp-sessions", type=int, default=32, help="concurrent MCP sessions of the mcp phase's load")
parser.add_argument("--mcp-seconds", type=int, default=None,
                    help="length of each of the mcp phase's two runs (default: --seconds)")
parser.add_argument("--only", default=",".join(name for name in PHASES if name != "soak"),
                    help=f"the phases to run (comma-separated): {', '.join(PHASES)}")
args = parser.parse_args()
phases = set(args.only.split(",")) | ({"soak"} if args.soak else set())
if phases - set(PHASES):
    parser.error(f"no such phase: {', '.join(sorted(phases - set(PHASES)))} (the phases: {', '.join(PHASES)})")

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
        "ingress_vs_ceiling": ">= 2.0", "ingress_p99_ms": "<= 20", "serve_cpu_vs_floor": "<= 3.0",
        "ingress_vs_peer": ">= 10", "drain_2p_jobs_per_s": ">= 25000", "drain_vs_claim_ceiling": ">= 1.0",
        "latency_p50_ms": "<= 5", "latency_p99_ms": "<= 20", "ingress_rss_mib": "<= 64", "worker_rss_mib": "<= 48",
        "soak_decay_pct": "<= 10", "mcp_1s_p50_ms": "<= 10", "large_bodies_rss_after_mib": "<= 64",
    }
    width = max(28, *map(len, results))
    print(f"{'figure':<{width}} {'value':>14}  target")
    for key, value in results.items():
        shown = value if not isinstance(value, list) else " ".join(map(str, value))
        print(f"{key:<{width}} {str(shown):>14}  {targets.get(key, '')}")
