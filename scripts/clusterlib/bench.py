"""scripts/cluster bench: see the header of scripts/cluster.

1. The ingress: wrk (2 threads, 64 connections, --seconds) POSTs 1 KB JSON with a bearer token through HAProxy
   to the two `hookline serve` hosts, while the three worker hosts are paused (SIGSTOP), as scripts/bench's
   ingress phase does against one instance. Every 2xx must be a job row.
2. The drain: the workers continue (SIGCONT) and run the backlog wrk left (a cycle of one filter step); timed
   by the database, from just before they continued to the last job's finish.

Everything shares this machine's cores: the figures say what the topology costs, not what separate hosts do."""
import argparse
import datetime
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from chaoslib import accounting, faults as faultlib  # noqa: E402
from benchlib.load import wrk_ms  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
HOOKLINE = os.environ.get("HOOKLINE_BIN") or os.path.join(ROOT, ".build", "release", "hookline")


def note(text):
    print(f"bench: {text}", file=sys.stderr, flush=True)


def main():
    parser = argparse.ArgumentParser(prog="scripts/cluster bench")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--state", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--ingress", required=True)
    args = parser.parse_args()
    url = args.database_url
    env = dict(os.environ, DATABASE_URL=url)

    def hookline(*arguments):
        done = subprocess.run([HOOKLINE, *arguments, "--json"], env=env, capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            raise SystemExit(f"hookline {' '.join(arguments)}: {done.stderr}")
        return json.loads(done.stdout)

    def psql(sql):
        rows = accounting.psql(url, sql + ";\n")
        return rows[-1][0] if rows else ""

    if psql("SELECT count(*) FROM hookline.jobs") != "0":
        raise SystemExit("bench: the hot table is not empty; wait for the workers (or run scripts/cluster down/up)")
    work = tempfile.mkdtemp(prefix="hookline-cluster-bench.")
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
    body = json.dumps({"type": "order.created", "id": "evt_0001", "data": {"pad": ""}}, separators=(",", ":"))
    body = json.dumps({"type": "order.created", "id": "evt_0001", "data": {"pad": "x" * (1024 - len(body))}},
                      separators=(",", ":"))
    lua = os.path.join(work, "post.lua")
    with open(lua, "w") as f:
        f.write('wrk.method = "POST"\n')
        f.write(f"wrk.body = {json.dumps(body)}\n")
        f.write('wrk.headers["Content-Type"] = "application/json"\n')
        f.write(f'wrk.headers["Authorization"] = "Bearer {token}"\n')

    # The worker hosts' processes: the supervisors and their worker processes, paused during the ingress run.
    workers = []
    for host in ("wk1", "wk2", "wk3"):
        with open(os.path.join(args.state, "run", f"{host}.pid")) as f:
            supervisor = int(f.read())
        workers += [supervisor, *faultlib.worker_children(supervisor)]

    def signal_workers(sig):
        for pid in workers:
            faultlib.kill(pid, sig)

    target = f"http://{args.ingress}/webhooks/{webhook}"
    try:
        signal_workers(signal.SIGSTOP)
        note(f"warm-up: 3 s of wrk through HAProxy {args.ingress}, the worker hosts paused")
        subprocess.run(["wrk", "-t2", f"-c{args.connections}", "-d3s", "-s", lua, target], capture_output=True,
                       check=True)
        time.sleep(2)  # the warm-up's last requests, in flight when wrk stopped, are committed by now
        psql("DELETE FROM hookline.jobs")
        psql("VACUUM ANALYZE hookline.jobs")
        note(f"ingress: wrk, {args.connections} connections, {args.seconds} s, 1 KB JSON with a bearer token")
        done = subprocess.run(["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "--latency", "-s", lua,
                               target], capture_output=True, text=True, check=True)
        output = done.stdout
        requests = int(re.search(r"(\d+) requests in", output).group(1))
        non2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", output) or [0, 0])[1])
        rows = int(psql("SELECT count(*) FROM hookline.jobs"))
        rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1))
        p50 = wrk_ms(re.search(r"\s50%\s+(\S+)", output).group(1))
        p99 = wrk_ms(re.search(r"\s99%\s+(\S+)", output).group(1))
        errors = re.search(r"Socket errors: (.*)", output)
        began_at = psql("SELECT clock_timestamp()")
        began = time.monotonic()
        note(f"drain: {rows:,} jobs (one filter step), the three worker hosts continued")
    finally:
        signal_workers(signal.SIGCONT)
    while psql("SELECT EXISTS (SELECT 1 FROM hookline.jobs)") == "t":
        if time.monotonic() - began > 600:
            raise SystemExit("bench: the drain took over 10 minutes")
        time.sleep(1)
    elapsed = float(psql(f"SELECT extract(epoch FROM max(finished_at) - '{began_at}'::timestamptz) "
                         f"FROM hookline.job_history WHERE account_id = '{account}'"))
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    print(f"\n`scripts/cluster bench --seconds {args.seconds}`, {date}\n")
    print("| figure | value |\n|---|---|")
    print(f"| webhooks/s through HAProxy (2 serve hosts, wrk {args.connections} connections) | {rps:,.0f} |")
    print(f"| latency p50 / p99 | {p50:.2f} ms / {p99:.2f} ms |")
    print(f"| answers (non-2xx) | {requests:,} ({non2xx:,}) |")
    print(f"| job rows after the run | {rows:,} |")
    print(f"| socket errors | {errors.group(1).strip() if errors else 'none'} |")
    print(f"| drain, 3 worker hosts (1 process, 32 jobs at once each) | {rows / elapsed:,.0f} jobs/s "
          f"({rows:,} in {elapsed:.1f} s) |")
    status = 0
    if non2xx:
        print(f"bench: {non2xx} answers were not 2xx", file=sys.stderr)
        status = 1
    if not (requests - non2xx <= rows <= requests + args.connections):
        print(f"bench: wrk counted {requests} answers but {rows} job rows exist", file=sys.stderr)
        status = 1
    sys.exit(status)


if __name__ == "__main__":
    main()
