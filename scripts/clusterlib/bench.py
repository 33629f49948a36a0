"""scripts/cluster bench: see the header of scripts/cluster. One run measures the single host and the cluster,
with the same binary, the same load and the same worker configuration, and prints them side by side with
their ratio (cluster / single host):

0. The single host (skipped with --single-host none): scripts/bench's ingress phase and its drain, run through
   the scripts/bench wrapper on its private PostgreSQL (one node, fsync and synchronous_commit on) by
   clusterlib/single.py, with a copy of the binary the cluster's `serve` runs (HOOKLINE_BIN; nothing is built).
   The cluster's worker hosts are paused (SIGSTOP) meanwhile; its other processes are idle.
1. The cluster's ingress: wrk (2 threads, 64 connections, --seconds) POSTs 1 KB JSON with a bearer token
   through HAProxy to the two `hookline serve` hosts, while the three worker hosts are paused, as scripts/bench's
   ingress phase does against one instance (3 s of warm-up, the queue emptied, a checkpoint). Every 2xx must be
   a job row.
2. The drain of what wrk left (the worker hosts continued): every one of those jobs must have completed.
3. The drain measured against the single host's: --drain-jobs queued jobs inserted as scripts/bench's drain
   inserts them (a cycle of one filter step, a small JSON body), the worker hosts paused meanwhile, then
   continued; timed by the database, from just before they continued to the last job's finish. The single host
   runs the same number of worker processes with the same settings: 3 processes of 32 jobs at once, claim
   batch 100, polling every 200 ms, where the cluster runs one on each of wk1…3 (scripts/clusterlib/hookline.sh's
   start_work). The single host's clock starts just before `hookline work` starts (benchlib's drain), the
   cluster's just before its paused workers continue, woken by a notification.
With --single-host around, the single host runs again after the cluster (its figures: the mean of both runs),
which shows how much the shared machine drifted during the run.

Everything shares this machine's cores: the ratio says what the topology costs (the network namespaces, HAProxy,
the synchronous standby, Patroni and etcd beside it), not what separate hosts would do."""
import argparse
import datetime
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from chaoslib import accounting, faults as faultlib  # noqa: E402
from benchlib.load import wrk_ms  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
# The worker hosts' configuration (start_work in hookline.sh): the single host runs as many processes, alike.
WORKER_HOSTS = ("wk1", "wk2", "wk3")
WORKER_CONCURRENCY = 32
WORKER_CLAIM_BATCH = 100  # hookline work's default, which the worker hosts run with
WORKER_POLL_MS = 200  # their --poll-ms: a claim that comes back short waits for it (or a notification)
SINGLE_HOST_CONNECTIONS = 64  # scripts/bench's ingress phase (benchlib/ingress.py)
TARGET_RATIO = 0.8


def note(text):
    print(f"bench: {text}", file=sys.stderr, flush=True)


def check_caller_address(hookline, account, cycle, ingress):
    """Through HAProxy, `serve` must see the caller's address, not the balancer's: a webhook that allows only
    this shell's address (the bridge's, .1) takes a delivery, one that allows only the balancer's refuses it."""
    balancer = ingress.split(":")[0]
    caller = balancer.rsplit(".", 1)[0] + ".1"
    for allowed, expected in ((caller, 202), (balancer, 403)):
        webhook = hookline("webhooks", "create", "--account", account, "--cycle", cycle, "--auth", "none",
                           "--allow-ip", f"{allowed}/32")["id"]
        request = urllib.request.Request(f"http://{ingress}/webhooks/{webhook}", b'{"type":"address.check"}',
                                         {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status = answer.status
        except urllib.error.HTTPError as error:
            status = error.code
        if status != expected:
            raise SystemExit(f"bench: a delivery from {caller} to a webhook allowing only {allowed} was answered "
                             f"{status}, not {expected}: serve does not see the caller's address through HAProxy")
    note(f"cluster: serve sees the caller's address through HAProxy ({caller}, not {balancer})")


def check_mcp_sessions(hookline, account, cycle, ingress, requests=12):
    """An MCP session lives in the `serve` instance that answered its initialize: through HAProxy, each of its
    later requests must reach that instance (the mcp backend balances on Mcp-Session-Id). Round robin sent
    every other one to the other instance, which answered 404."""
    server = hookline("mcp-servers", "create", "--account", account, "--name", "bench", "--auth", "none",
                      "--cycle", cycle)["id"]
    url = f"http://{ingress}/mcp/{server}"
    version = "2025-06-18"

    def post(message, session=None):
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        if session:
            headers.update({"Mcp-Session-Id": session, "MCP-Protocol-Version": version})
        request = urllib.request.Request(url, json.dumps(message).encode(), headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                answer.read()
                return answer.status, answer.headers.get("Mcp-Session-Id")
        except urllib.error.HTTPError as error:
            return error.code, None

    status, session = post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}})
    if status != 200 or not session:
        raise SystemExit(f"bench: an MCP initialize through HAProxy was answered {status}")
    post({"jsonrpc": "2.0", "method": "notifications/initialized"}, session)
    statuses = [post({"jsonrpc": "2.0", "id": n, "method": "tools/list"}, session)[0] for n in range(2, 2 + requests)]
    if any(status != 200 for status in statuses):
        raise SystemExit(f"bench: an MCP session's requests through HAProxy were answered {statuses}: they do not "
                         "all reach the instance that holds the session")
    note(f"cluster: an MCP session's {requests} requests through HAProxy all reached its instance")


def main():
    parser = argparse.ArgumentParser(prog="scripts/cluster bench")
    parser.add_argument("--seconds", type=int, default=20, help="length of each wrk run (default 20)")
    parser.add_argument("--connections", type=int, default=64,
                        help="wrk's connections (64, scripts/bench's, unless --single-host none)")
    parser.add_argument("--drain-jobs", type=int, default=50_000,
                        help="queued jobs of the compared drain, on each side (default 50,000)")
    parser.add_argument("--single-host", choices=("before", "around", "none"), default="before",
                        help="run scripts/bench's single-host ingress and drain before the cluster (default), "
                             "before and after it, or not at all")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    parser.add_argument("--state", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--ingress", required=True)
    parser.add_argument("--variant", default="direct", help="direct or pgbouncer (what scripts/cluster up built)")
    args = parser.parse_args()
    if args.single_host != "none" and args.connections != SINGLE_HOST_CONNECTIONS:
        raise SystemExit(f"bench: scripts/bench's ingress runs {SINGLE_HOST_CONNECTIONS} connections: "
                         "another --connections needs --single-host none")
    url = args.database_url
    # The superuser, for CHECKPOINT (the hookline role may not), over the same hosts.
    with open(os.path.join(args.state, "secrets", "postgres")) as f:
        superuser_url = re.sub(r"\bpassword=\S+", f"password={f.read().strip()}",
                               re.sub(r"\buser=\S+", "user=postgres", url))
    work = tempfile.mkdtemp(prefix="hookline-cluster-bench.")

    def pid_of(host):
        with open(os.path.join(args.state, "run", f"{host}.pid")) as f:
            return int(f.read())

    # The binary the cluster's hosts run (the one `up` started, even if the file was rebuilt since): its copy is
    # what the single host runs and what this script's own hookline commands use.
    binary = os.path.join(work, "hookline")
    shutil.copyfile(f"/proc/{pid_of('in1')}/exe", binary)
    os.chmod(binary, 0o755)
    with open(binary, "rb") as f:
        binary_sha = hashlib.sha256(f.read()).hexdigest()[:12]
    env = dict(os.environ, DATABASE_URL=url)

    def hookline(*arguments):
        done = subprocess.run([binary, *arguments, "--json"], env=env, capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            raise SystemExit(f"hookline {' '.join(arguments)}: {done.stderr}")
        return json.loads(done.stdout)

    def psql(sql, on=url):
        rows = accounting.psql(on, sql + ";\n")
        return rows[-1][0] if rows else ""

    if psql("SELECT count(*) FROM hookline.jobs") != "0":
        raise SystemExit("bench: the hot table is not empty; wait for the workers (or run scripts/cluster down/up)")

    # The worker hosts' processes: the supervisors and their worker processes, paused while not measured.
    def signal_workers(sig):
        for host in WORKER_HOSTS:
            supervisor = pid_of(host)
            for pid in (supervisor, *faultlib.worker_children(supervisor)):
                faultlib.kill(pid, sig)

    def single_host(round_):
        note(f"single host ({round_}): scripts/bench's ingress phase and a drain of {args.drain_jobs:,} jobs by "
             f"{len(WORKER_HOSTS)} worker processes, on its private PostgreSQL; the cluster's worker hosts paused")
        # benchlib's drain gives `hookline work` no --poll-ms: the environment does (HOOKLINE_POLL_MS).
        bench_env = dict(os.environ, HOOKLINE_BIN=binary, HOOKLINE_BENCH_ENTRY=os.path.join(HERE, "single.py"),
                         HOOKLINE_POLL_MS=str(WORKER_POLL_MS))
        bench_env.pop("DATABASE_URL", None)
        signal_workers(signal.SIGSTOP)
        try:
            done = subprocess.run(
                [os.path.join(ROOT, "scripts", "bench"), "--seconds", str(args.seconds), "--drain-jobs",
                 str(args.drain_jobs), "--processes", str(len(WORKER_HOSTS)), "--concurrency",
                 str(WORKER_CONCURRENCY), "--claim-batch", str(WORKER_CLAIM_BATCH)],
                env=bench_env, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        finally:
            signal_workers(signal.SIGCONT)
        if done.returncode != 0:
            raise SystemExit(f"bench: the single-host run (scripts/bench) failed with status {done.returncode}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    singles = []
    if args.single_host != "none":
        singles.append(single_host("before the cluster"))

    account = hookline("accounts", "create", "--name", "cluster-bench")["id"]
    cycle_file = os.path.join(work, "cycle.json")
    with open(cycle_file, "w") as f:
        json.dump({"name": "bench", "steps": [{"id": "pass", "type": "filter", "path": "/type",
                                                 "equals": "order.created"}]}, f)
    cycle = hookline("cycles", "create", "--account", account, "--file", cycle_file)["id"]
    webhook = hookline("webhooks", "create", "--account", account, "--cycle", cycle, "--auth", "bearer")["id"]
    client = hookline("clients", "create", "--account", account, "--scope", "webhook")
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": client["client_id"],
                                   "client_secret": client["client_secret"]}).encode()
    with urllib.request.urlopen(f"http://{args.ingress}/oauth/token", form, timeout=30) as answer:
        token = json.load(answer)["access_token"]
    check_caller_address(hookline, account, cycle, args.ingress)
    check_mcp_sessions(hookline, account, cycle, args.ingress)
    body = json.dumps({"type": "order.created", "id": "evt_0001", "data": {"pad": ""}}, separators=(",", ":"))
    body = json.dumps({"type": "order.created", "id": "evt_0001", "data": {"pad": "x" * (1024 - len(body))}},
                      separators=(",", ":"))
    lua = os.path.join(work, "post.lua")
    with open(lua, "w") as f:
        f.write('wrk.method = "POST"\n')
        f.write(f"wrk.body = {json.dumps(body)}\n")
        f.write('wrk.headers["Content-Type"] = "application/json"\n')
        f.write(f'wrk.headers["Authorization"] = "Bearer {token}"\n')

    def wait_empty(began, what):
        while psql("SELECT EXISTS (SELECT 1 FROM hookline.jobs)") == "t":
            if time.monotonic() - began > 600:
                raise SystemExit(f"bench: {what} took over 10 minutes")
            time.sleep(1)

    def drained_since(began_at):
        """Seconds from began_at to the last finish of the bench account's jobs finished since, their number and
        the number that succeeded."""
        row = accounting.psql(url, f"""
            SELECT extract(epoch FROM max(finished_at) - '{began_at}'::timestamptz), count(*),
                   count(*) FILTER (WHERE outcome = 'succeeded')
            FROM hookline.job_history WHERE account_id = '{account}' AND finished_at >= '{began_at}';\n""")[-1]
        return float(row[0] or 0), int(row[1]), int(row[2])

    # 1. The ingress, the worker hosts paused.
    target = f"http://{args.ingress}/webhooks/{webhook}"
    signal_workers(signal.SIGSTOP)
    try:
        note(f"cluster: 3 s of wrk through HAProxy {args.ingress} (warm-up), the worker hosts paused")
        subprocess.run(["wrk", "-t2", f"-c{args.connections}", "-d3s", "-s", lua, target], capture_output=True,
                       check=True)
        time.sleep(2)  # the warm-up's last requests, in flight when wrk stopped, are committed by now
        psql("DELETE FROM hookline.jobs")
        psql("VACUUM ANALYZE hookline.jobs")
        psql("CHECKPOINT", on=superuser_url)  # as scripts/bench starts each phase from one
        note(f"cluster ingress: wrk, {args.connections} connections, {args.seconds} s, 1 KB JSON with a bearer token")
        done = subprocess.run(["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "--latency", "-s", lua,
                               target], capture_output=True, text=True, check=True)
        output = done.stdout
        requests = int(re.search(r"(\d+) requests in", output).group(1))
        non2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", output) or [0, 0])[1])
        time.sleep(2)  # as after the warm-up: the requests in flight when wrk stopped are committed by now
        rows = int(psql("SELECT count(*) FROM hookline.jobs"))
        rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1))
        p50 = wrk_ms(re.search(r"\s50%\s+(\S+)", output).group(1))
        p99 = wrk_ms(re.search(r"\s99%\s+(\S+)", output).group(1))
        errors = re.search(r"Socket errors: (.*)", output)
        began_at = psql("SELECT clock_timestamp()")
        began = time.monotonic()
        note(f"cluster: drain of wrk's {rows:,} jobs, the worker hosts continued")
    finally:
        signal_workers(signal.SIGCONT)

    # 2. What wrk left: every job must complete.
    wait_empty(began, "the drain of wrk's jobs")
    backlog_elapsed, backlog_done, backlog_succeeded = drained_since(began_at)

    # 3. The compared drain: queued as scripts/bench's drain queues them (benchlib/drain.py).
    note(f"cluster drain: {args.drain_jobs:,} queued jobs (one filter step), the three worker hosts paused "
         "while they are inserted")
    signal_workers(signal.SIGSTOP)
    try:
        psql("CHECKPOINT", on=superuser_url)
        psql(f"""
            INSERT INTO hookline.jobs (account_id, webhook_id, cycle_id, cycle_version, max_attempts, content_type,
                                       body)
            SELECT '{account}', '{webhook}', '{cycle}', 1, 6, 'application/json',
                   convert_to('{{"type":"order.created","n":' || g || '}}', 'UTF8')
            FROM generate_series(1, {args.drain_jobs}) g""")
        psql("VACUUM ANALYZE hookline.jobs")
        drain_began_at = psql("SELECT clock_timestamp()")
        drain_began = time.monotonic()
        # Wakes them as soon as they continue, as a fresh `hookline work` claims at once (else: their 200 ms poll).
        psql("SELECT pg_notify('hookline_jobs', '')")
    finally:
        signal_workers(signal.SIGCONT)
    wait_empty(drain_began, "the cluster's drain")
    drain_elapsed, drain_done, drain_succeeded = drained_since(drain_began_at)

    if args.single_host == "around":
        singles.append(single_host("after the cluster"))

    # The figures.
    cluster = {
        "ingress_rps": round(rps, 1), "ingress_p50_ms": round(p50, 2), "ingress_p99_ms": round(p99, 2),
        "ingress_answers": requests, "ingress_non2xx": non2xx, "ingress_job_rows": rows,
        "ingress_socket_errors": errors.group(1).strip() if errors else "none",
        "backlog_jobs": rows, "backlog_completed": backlog_succeeded,
        "backlog_jobs_per_s": round(rows / backlog_elapsed) if backlog_elapsed > 0 else None,
        "drain_jobs": args.drain_jobs, "drain_jobs_per_s": round(args.drain_jobs / drain_elapsed),
        "drain_seconds": round(drain_elapsed, 2),
    }

    def mean(key):
        return round(sum(run[key] for run in singles) / len(singles), 2) if singles else None

    single = {key: mean(key) for key in ("ingress_rps", "ingress_p50_ms", "ingress_p99_ms", "drain_jobs_per_s")}
    ratios = {key: round(cluster[key] / single[key], 2) if single[key] else None
              for key in ("ingress_rps", "drain_jobs_per_s")}
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()

    status = 0
    failures = []
    if non2xx:
        failures.append(f"{non2xx} answers were not 2xx")
    if not (requests - non2xx <= rows <= requests + args.connections):
        failures.append(f"wrk counted {requests} answers but {rows} job rows exist")
    # (Requests in flight when wrk stopped may have committed after the count: at least `rows`.)
    if backlog_done < rows or backlog_succeeded != backlog_done:
        failures.append(f"of wrk's {rows} jobs, {backlog_done} finished and {backlog_succeeded} succeeded")
    if drain_done != args.drain_jobs or drain_succeeded != args.drain_jobs:
        failures.append(f"of {args.drain_jobs} queued jobs, {drain_done} finished and {drain_succeeded} succeeded")
    if failures:
        status = 1

    if args.json:
        print(json.dumps({
            "date": date, "variant": args.variant, "seconds": args.seconds, "connections": args.connections,
            "binary_sha256": binary_sha, "load_average": [round(x, 2) for x in load],
            "workers": {"processes": len(WORKER_HOSTS), "concurrency": WORKER_CONCURRENCY,
                        "claim_batch": WORKER_CLAIM_BATCH, "poll_ms": WORKER_POLL_MS},
            "single_host": single, "single_host_runs": singles, "cluster": cluster, "ratio": ratios,
            "target_ratio": TARGET_RATIO, "failures": failures}, sort_keys=True))
    else:
        variant = ", the PgBouncer variant" if args.variant == "pgbouncer" else ""
        options = f"--seconds {args.seconds}" + "".join(
            f" --{name.replace('_', '-')} {value}" for name, value, default in (
                ("drain_jobs", args.drain_jobs, 50_000), ("single_host", args.single_host, "before"),
                ("connections", args.connections, 64)) if value != default)
        print(f"\n`scripts/cluster bench {options}`{variant}, {date}, binary {binary_sha}, "
              f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}\n")

        def number(value, digits=0):
            return "-" if value is None else f"{value:,.{digits}f}"

        def ratio(key):
            value = ratios[key]
            return "-" if value is None else f"{value:.2f}{'' if value >= TARGET_RATIO else ' (< 0.8)'}"

        print("| figure | single host | cluster | ratio |\n|---|---|---|---|")
        print(f"| webhooks/s (wrk, {args.connections} connections, 1 KB JSON, bearer token; single: one `serve`; "
              f"cluster: HAProxy to 2 `serve` hosts) | {number(single['ingress_rps'])} | {rps:,.0f} | "
              f"{ratio('ingress_rps')} |")
        print(f"| latency p50 / p99 (ms) | {number(single['ingress_p50_ms'], 2)} / "
              f"{number(single['ingress_p99_ms'], 2)} | {p50:.2f} / {p99:.2f} | |")
        print(f"| drain, jobs/s ({args.drain_jobs:,} queued jobs, one filter step; {len(WORKER_HOSTS)} worker "
              f"processes of {WORKER_CONCURRENCY} jobs at once: single: on one host; cluster: one on each of "
              f"wk1…3) | {number(single['drain_jobs_per_s'])} | {args.drain_jobs / drain_elapsed:,.0f} | "
              f"{ratio('drain_jobs_per_s')} |")
        if len(singles) > 1:
            print("\nsingle host, each run (before / after the cluster): webhooks/s "
                  f"{' / '.join(number(run['ingress_rps']) for run in singles)}, drain jobs/s "
                  f"{' / '.join(number(run['drain_jobs_per_s']) for run in singles)}")
        print(f"\ntarget: ratio >= {TARGET_RATIO}\n" if singles else "")
        print("| cluster accounting | value |\n|---|---|")
        print(f"| answers (non-2xx) | {requests:,} ({non2xx:,}) |")
        print(f"| job rows after the run (every 2xx a job) | {rows:,} |")
        print(f"| wrk's jobs completed | {backlog_succeeded:,} of {rows:,} "
              f"({number(cluster['backlog_jobs_per_s'])} jobs/s) |")
        print(f"| socket errors | {cluster['ingress_socket_errors']} |")
    for failure in failures:
        print(f"bench: {failure}", file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(status)


if __name__ == "__main__":
    main()
