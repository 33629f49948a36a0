#!/usr/bin/env python3
"""The single-host side of `scripts/cluster bench`: scripts/bench's own ingress phase and drain, on scripts/bench's
private PostgreSQL, shaped like the cluster's hosts. Run by the scripts/bench wrapper (which starts that
PostgreSQL, sets DATABASE_URL and runs `hookline migrate`) as its HOOKLINE_BENCH_ENTRY, with HOOKLINE_BIN set:

  HOOKLINE_BIN=… HOOKLINE_BENCH_ENTRY=scripts/clusterlib/single.py scripts/bench --seconds S --drain-jobs N \\
      --processes 3 --concurrency 32 --claim-batch 100

It reimplements nothing: benchlib.fixture.prepare (1 GB of WAL warm-up, account, one-filter-step cycle, bearer
webhook, token, one `hookline serve` at its defaults), benchlib.ingress.phase_ingress (wrk -t2 -c64, 3 s of
warm-up, then --seconds; every 2xx a job row) and benchlib.drain.drain (N queued jobs, `hookline work` started,
timed by the database from just before it started to the last job's finish; every job succeeded once). Only the
drain's worker processes differ from scripts/bench.py's phase, which runs 1 and then 2: here --processes, each
with --concurrency jobs at once and --claim-batch, as the cluster's worker hosts run (one process of 32 each,
claim batch 100, hookline's default; scripts/cluster bench sets HOOKLINE_POLL_MS=200, their --poll-ms, which
benchlib's drain does not pass). Prints one JSON object on stdout."""
import argparse
import atexit
import json
import os
import signal
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib.context import Bench, note  # noqa: E402
from benchlib.database import psql  # noqa: E402
from benchlib.drain import drain  # noqa: E402
from benchlib.fixture import prepare  # noqa: E402
from benchlib.ingress import phase_ingress  # noqa: E402
from benchlib.processes import stop  # noqa: E402

parser = argparse.ArgumentParser(prog="scripts/clusterlib/single.py")
parser.add_argument("--hookline", required=True)
parser.add_argument("--seconds", type=int, default=20)
parser.add_argument("--drain-jobs", type=int, default=50_000)
parser.add_argument("--processes", type=int, default=3)
parser.add_argument("--concurrency", type=int, default=32)
parser.add_argument("--claim-batch", type=int, default=100)
args = parser.parse_args()
# What benchlib reads of bench.args.
args.worker_concurrency = args.concurrency

bench = Bench(args=args, url=os.environ["DATABASE_URL"], hookline=args.hookline, env=dict(os.environ),
              work_dir=tempfile.mkdtemp(prefix="hookline-bench-single-"))
atexit.register(lambda: [stop(child, timeout=10) for child in bench.children])
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
prepare(bench)
phase_ingress(bench)
note(f"drain: {args.drain_jobs} jobs, one filter step, hookline work with {args.processes} processes of "
     f"{args.concurrency} jobs at once (claim batch {args.claim_batch})")
rate, rss, _ = drain(bench, args.processes)
stop(bench.serve)
results = {key: value for key, value in bench.results.items() if key.startswith("ingress_")}
results.update({
    "drain_jobs_per_s": round(rate),
    "drain_jobs": args.drain_jobs,
    "drain_processes": args.processes,
    "drain_concurrency": args.concurrency,
    "drain_claim_batch": args.claim_batch,
    "drain_poll_ms": os.environ.get("HOOKLINE_POLL_MS", "default"),
    "worker_rss_mib": round(rss, 1),
    "postgresql": psql(bench, "SHOW server_version"),
})
print(json.dumps(results, sort_keys=True))
