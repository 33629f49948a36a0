"""Phase 3, the ingress: wrk, 64 connections, 1 KB JSON POSTs with a bearer token to `hookline serve`."""
import re

from .context import note
from .database import psql, reset_queue
from .load import run_wrk, wrk_ms
from .processes import children_cpu_seconds, cpu_seconds, machine_cpu_seconds, peak_rss_mib


def phase_ingress(bench):
    note(f"3/12 ingress: wrk, 64 connections, {bench.args.seconds} s, 1 KB JSON with a bearer token")
    reset_queue(bench)
    run_wrk(bench, 3)  # warm-up: connections and caches
    reset_queue(bench)
    serve_before, machine_before, wrk_before = cpu_seconds(bench.serve.pid), machine_cpu_seconds(), children_cpu_seconds()
    output = run_wrk(bench, bench.args.seconds)
    serve_cpu, wrk_cpu = cpu_seconds(bench.serve.pid) - serve_before, children_cpu_seconds() - wrk_before
    machine_cpu = machine_cpu_seconds() - machine_before
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    non2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", output) or [0, 0])[1])
    errors = re.search(r"Socket errors: (.*)", output)
    rows = int(psql(bench, "SELECT count(*) FROM hookline.jobs"))
    if non2xx != 0:
        raise SystemExit(f"bench: {non2xx} responses were not 2xx\n{output}")
    if not (requests <= rows <= requests + 64):
        raise SystemExit(f"bench: wrk counted {requests} answers but {rows} job rows exist")
    bench.results["ingress_rps"] = round(float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1)), 1)
    bench.results["ingress_p50_ms"] = round(wrk_ms(re.search(r"\s50%\s+(\S+)", output).group(1)), 2)
    bench.results["ingress_p99_ms"] = round(wrk_ms(re.search(r"\s99%\s+(\S+)", output).group(1)), 2)
    bench.results["ingress_rss_mib"] = round(peak_rss_mib(bench.serve.pid), 1)
    bench.results["ingress_socket_errors"] = errors.group(1).strip() if errors else "none"
    # Where the machine's CPU went, per request answered.
    bench.results["ingress_serve_cpu_us"] = round(1e6 * serve_cpu / requests, 1)
    bench.results["ingress_postgres_cpu_us"] = round(1e6 * (machine_cpu - serve_cpu - wrk_cpu) / requests, 1)
    bench.results["ingress_wrk_cpu_us"] = round(1e6 * wrk_cpu / requests, 1)
    if "ceiling_tps" in bench.results:
        bench.results["ingress_vs_ceiling"] = round(bench.results["ingress_rps"] / bench.results["ceiling_tps"], 2)
