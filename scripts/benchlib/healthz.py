"""Phase 5, serve's HTTP alone: wrk, 64 connections, --seconds of `GET /healthz` (a constant JSON body, no
database) to the bench's running `hookline serve`, after 3 s of warm-up: serve's CPU per request when
Hookline does nothing but answer, to set beside its CPU per webhook and the floor's."""
import os

from .context import note
from .load import run_wrk, wrk_counts
from .processes import cpu_seconds


def phase_healthz(bench):
    note(f"5/12 healthz: wrk, 64 connections, {bench.args.seconds} s, GET /healthz to hookline serve")
    script = os.path.join(bench.work_dir, "get.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "GET"\n')
    url = f"{bench.base}/healthz"
    run_wrk(bench, 3, script=script, url=url)  # warm-up
    before = cpu_seconds(bench.serve.pid)
    output = run_wrk(bench, bench.args.seconds, script=script, url=url)
    used = cpu_seconds(bench.serve.pid) - before
    requests, rate, non2xx = wrk_counts(output)
    if non2xx != 0:
        raise SystemExit(f"bench: {non2xx} of the /healthz responses were not 2xx\n{output}")
    bench.results["healthz_rps"] = round(rate, 1)
    bench.results["healthz_serve_cpu_us"] = round(1e6 * used / requests, 1)
