"""Phase 4, the floor: `hookline-nio-floor` (--floor), a minimal SwiftNIO HTTP/1.1 server that reads each request,
body and all, and answers 202 `{"job_id":1}` with nothing of Hookline in it, under the ingress phase's very
load (wrk -t2 -c64, the 1 KB body with the token, 3 s of warm-up, then --seconds). Its CPU per request is the
least an HTTP server on the same stack spends on a webhook: serve_cpu_vs_floor is serve's CPU per webhook
(the ingress phase's) over it."""
from .context import note
from .load import run_wrk, wrk_counts
from .processes import cpu_seconds, free_port, start, stop, wait_http


def phase_floor(bench):
    if not bench.args.floor:
        note("4/12 floor: skipped: no --floor (scripts/bench: HOOKLINE_BIN is set without HOOKLINE_FLOOR_BIN)")
        return
    note(f"4/12 floor: wrk, 64 connections, {bench.args.seconds} s, 1 KB JSON with a bearer token to hookline-nio-floor")
    port = free_port()
    floor = start(bench, [bench.args.floor, "--port", str(port)], "floor")
    url = f"http://127.0.0.1:{port}/webhooks/{bench.webhook}"
    wait_http(url, status=202)
    run_wrk(bench, 3, url=url)  # warm-up, as the ingress's
    before = cpu_seconds(floor.pid)
    output = run_wrk(bench, bench.args.seconds, url=url)
    used = cpu_seconds(floor.pid) - before
    stop(floor)
    requests, rate, non2xx = wrk_counts(output)
    if non2xx != 0:
        raise SystemExit(f"bench: {non2xx} of the floor's responses were not 2xx\n{output}")
    bench.results["floor_rps"] = round(rate, 1)
    bench.results["floor_cpu_us"] = round(1e6 * used / requests, 1)
    if "ingress_serve_cpu_us" in bench.results:
        bench.results["serve_cpu_vs_floor"] = round(
            bench.results["ingress_serve_cpu_us"] / bench.results["floor_cpu_us"], 2)
