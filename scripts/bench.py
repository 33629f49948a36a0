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

Prints a table, or with --json one JSON object.
"""
import argparse
import hashlib
import http.client
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import base64

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
parser.add_argument("--only", default="ceiling,ingress,drain,latency", help="the phases to run (comma-separated)")
args = parser.parse_args()
phases = set(args.only.split(",")) | ({"soak"} if args.soak else set())

URL = os.environ["DATABASE_URL"]
HOOKLINE = args.hookline
ENV = dict(os.environ)
work_dir = tempfile.mkdtemp(prefix="hookline-bench-")
children = []


def note(text):
    print(f"bench: {text}", file=sys.stderr, flush=True)


def psql(sql):
    result = subprocess.run(["psql", URL, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"bench: psql failed: {result.stderr.strip()}\n{sql}")
    return result.stdout.strip()


def hookline(*arguments):
    result = subprocess.run([HOOKLINE, *arguments, "--json"], capture_output=True, text=True, env=ENV)
    if result.returncode != 0:
        raise SystemExit(f"bench: hookline {' '.join(arguments)} failed: {result.stderr.strip()}")
    return json.loads(result.stdout)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(arguments, name):
    log = open(os.path.join(work_dir, f"{name}.log"), "w")
    process = subprocess.Popen(arguments, stdout=log, stderr=subprocess.STDOUT, env=ENV)
    children.append(process)
    return process


def stop(process, timeout=60):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def peak_rss_mib(pid):
    """The most resident memory the process ever had (VmHWM), in MiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def anon_mib(pid):
    """The process's private (anonymous) resident memory now, in MiB: its RSS without the pages of the binary
    and shared libraries, which every process of the binary shares."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    return 0.0


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """CPU time (user + system) a process has used, in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    # fields[0] is the state (stat's field 3): utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_cpu_seconds():
    """CPU time the whole machine has been busy (every core, all but idle and I/O wait), in seconds. During a
    phase PostgreSQL's share is this less that of the processes the bench measures: PostgreSQL's backends
    come and go, so they are not counted one by one."""
    with open("/proc/stat") as stat:
        user, nice, system, idle, iowait, irq, softirq, steal = map(int, stat.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def children_cpu_seconds():
    """CPU time of this script's waited-for children (wrk, pgbench, psql)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def worker_pids(supervisor):
    found = subprocess.run(["pgrep", "-P", str(supervisor.pid)], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in found]


def wait_http(url, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"bench: {url} did not come up")


def reset_queue():
    psql("TRUNCATE hookline.jobs, hookline.job_history, hookline.step_runs, hookline.idempotency_keys")
    psql("VACUUM ANALYZE hookline.jobs")
    # Each phase starts from a checkpoint, as a run of pgbench should: the pages the last phase dirtied are
    # written now rather than during this one, and its WAL segments are recycled for this phase to write
    # into (a young cluster otherwise creates a file every 16 MB, as no server that has run a while does).
    psql("CHECKPOINT")


# ---------------------------------------------------------------------------------------------------------
# Setup: an account, a cycle with one passing filter step, a bearer webhook, a client and a token.

results = {}
# A fresh cluster has one WAL segment and creates each next one as it goes; a server that has run a while
# writes into segments its checkpoints recycled. About 1 GB of WAL and a checkpoint first give every phase
# recycled segments to write into (min_wal_size keeps 1 GB of them): before this, a 20 s ingress run found
# 11 segments ahead and wrote 13, so it created files (and synced their allocation) as it ran.
note("writing 1 GB of WAL once: every phase then writes into recycled, already allocated WAL segments")
psql("CREATE TABLE bench_wal_warmup AS SELECT repeat('x', 1000) AS pad FROM generate_series(1, 900000)")
psql("DROP TABLE bench_wal_warmup")
psql("CHECKPOINT")
note("setting up an account, a cycle, a webhook, a client and a token")
account = hookline("accounts", "create", "--name", "bench")["id"]
cycle_file = os.path.join(work_dir, "cycle.json")
with open(cycle_file, "w") as f:
    json.dump({"name": "bench", "steps": [{"id": "pass", "type": "filter", "path": "/type", "equals": "order.created"}]}, f)
cycle = hookline("cycles", "create", "--account", account, "--file", cycle_file)["id"]
webhook = hookline("webhooks", "create", "--account", account, "--cycle", cycle, "--auth", "bearer")["id"]
client = hookline("clients", "create", "--account", account, "--scope", "webhook")

port = free_port()
serve = start([HOOKLINE, "serve", "--port", str(port), "--log-level", "error"], "serve")
base = f"http://127.0.0.1:{port}"
wait_http(f"{base}/readyz")
request = urllib.request.Request(
    f"{base}/oauth/token", data=b"grant_type=client_credentials",
    headers={"Authorization": "Basic " + base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode(),
             "Content-Type": "application/x-www-form-urlencoded"})
with urllib.request.urlopen(request) as response:
    token = json.load(response)["access_token"]

# A 1 KB JSON body.
body = json.dumps({"type": "order.created", "id": "evt_0001", "data": {"pad": ""}}, separators=(",", ":"))
body = json.dumps({"type": "order.created", "id": "evt_0001", "data": {"pad": "x" * (1024 - len(body))}},
                  separators=(",", ":"))
assert len(body) == 1024

# ---------------------------------------------------------------------------------------------------------
def phase_ceiling():
    note(f"1/5 ceiling: pgbench, 32 clients, {args.seconds} s, token check + 1 KB job insert per transaction")
    reset_queue()
    script = os.path.join(work_dir, "webhook.sql")
    with open(script, "w") as f:
        f.write(
            "INSERT INTO hookline.jobs (account_id, webhook_id, cycle_id, cycle_version, headers, content_type, body)\n"
            "SELECT t.account_id, w.id, w.cycle_id, 1, '{}', 'application/json', convert_to(:body, 'UTF8')\n"
            "FROM hookline.access_tokens t JOIN hookline.webhooks w ON w.account_id = t.account_id\n"
            "WHERE t.token_hash = decode(:hash, 'hex') AND t.scope = 'webhook' AND t.revoked_at IS NULL\n"
            "  AND t.expires_at > now() AND w.id = :webhook::uuid AND w.deleted_at IS NULL;\n")
    def pgbench(seconds):
        return subprocess.run(
            ["pgbench", "-n", "-M", "prepared", "-c", "32", "-j", "2", "-T", str(seconds), "-f", script,
             "-D", f"hash={hashlib.sha256(token.encode()).hexdigest()}", "-D", f"webhook={webhook}", "-D", f"body={body}",
             URL],
            capture_output=True, text=True)
    pgbench(3)  # warm-up, as the ingress has one: connections, caches and WAL segments to recycle
    reset_queue()
    machine_before, pgbench_before = machine_cpu_seconds(), children_cpu_seconds()
    bench = pgbench(args.seconds)
    machine_cpu, pgbench_cpu = machine_cpu_seconds() - machine_before, children_cpu_seconds() - pgbench_before
    if bench.returncode != 0:
        raise SystemExit(f"bench: pgbench failed: {bench.stderr}")
    tps = float(re.search(r"tps = ([0-9.]+) \(without initial connection time\)", bench.stdout).group(1))
    processed = int(re.search(r"number of transactions actually processed: (\d+)", bench.stdout).group(1))
    rows = int(psql("SELECT count(*) FROM hookline.jobs"))
    if rows != processed:
        raise SystemExit(f"bench: pgbench processed {processed} transactions but {rows} jobs exist")
    results["ceiling_tps"] = round(tps, 1)
    # Where the machine's CPU went, per transaction.
    results["ceiling_postgres_cpu_us"] = round(1e6 * (machine_cpu - pgbench_cpu) / processed, 1)
    results["ceiling_pgbench_cpu_us"] = round(1e6 * pgbench_cpu / processed, 1)



# ---------------------------------------------------------------------------------------------------------
lua = os.path.join(work_dir, "post.lua")
with open(lua, "w") as f:
    f.write('wrk.method = "POST"\n')
    f.write(f"wrk.body = {json.dumps(body)}\n")
    f.write('wrk.headers["Content-Type"] = "application/json"\n')
    f.write(f'wrk.headers["Authorization"] = "Bearer {token}"\n')


def run_wrk(seconds, connections=64, script=None):
    result = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script or lua,
         f"{base}/webhooks/{webhook}"],
        capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"bench: wrk failed: {result.stderr}")
    return result.stdout


def wrk_ms(text):
    value, unit = re.match(r"([0-9.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def phase_ingress():
    note(f"2/5 ingress: wrk, 64 connections, {args.seconds} s, 1 KB JSON with a bearer token")
    reset_queue()
    run_wrk(3)  # warm-up: connections and caches
    reset_queue()
    serve_before, machine_before, wrk_before = cpu_seconds(serve.pid), machine_cpu_seconds(), children_cpu_seconds()
    output = run_wrk(args.seconds)
    serve_cpu, wrk_cpu = cpu_seconds(serve.pid) - serve_before, children_cpu_seconds() - wrk_before
    machine_cpu = machine_cpu_seconds() - machine_before
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    non2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", output) or [0, 0])[1])
    errors = re.search(r"Socket errors: (.*)", output)
    rows = int(psql("SELECT count(*) FROM hookline.jobs"))
    if non2xx != 0:
        raise SystemExit(f"bench: {non2xx} responses were not 2xx\n{output}")
    if not (requests <= rows <= requests + 64):
        raise SystemExit(f"bench: wrk counted {requests} answers but {rows} job rows exist")
    results["ingress_rps"] = round(float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1)), 1)
    results["ingress_p50_ms"] = round(wrk_ms(re.search(r"\s50%\s+(\S+)", output).group(1)), 2)
    results["ingress_p99_ms"] = round(wrk_ms(re.search(r"\s99%\s+(\S+)", output).group(1)), 2)
    results["ingress_rss_mib"] = round(peak_rss_mib(serve.pid), 1)
    results["ingress_socket_errors"] = errors.group(1).strip() if errors else "none"
    # Where the machine's CPU went, per request answered.
    results["ingress_serve_cpu_us"] = round(1e6 * serve_cpu / requests, 1)
    results["ingress_postgres_cpu_us"] = round(1e6 * (machine_cpu - serve_cpu - wrk_cpu) / requests, 1)
    results["ingress_wrk_cpu_us"] = round(1e6 * wrk_cpu / requests, 1)
    if "ceiling_tps" in results:
        results["ingress_vs_ceiling"] = round(results["ingress_rps"] / results["ceiling_tps"], 2)



# ---------------------------------------------------------------------------------------------------------
def drain(processes):
    reset_queue()
    psql(f"""
        INSERT INTO hookline.jobs (account_id, webhook_id, cycle_id, cycle_version, max_attempts, content_type, body)
        SELECT '{account}', '{webhook}', '{cycle}', 1, 6, 'application/json',
               convert_to('{{"type":"order.created","n":' || g || '}}', 'UTF8')
        FROM generate_series(1, {args.drain_jobs}) g""")
    psql("VACUUM ANALYZE hookline.jobs")
    began = time.monotonic()
    began_at = psql("SELECT clock_timestamp()")
    work = start([HOOKLINE, "work", "--processes", str(processes), "--concurrency", str(args.worker_concurrency),
                  "--claim-batch", str(args.claim_batch), "--log-level", "error"], f"work-{processes}")
    peak = 0.0
    anon = 0.0
    while True:
        time.sleep(1.0)
        pids = worker_pids(work)
        for pid in pids:
            try:
                peak = max(peak, peak_rss_mib(pid))
                anon = max(anon, anon_mib(pid))
            except OSError:
                pass
        # Once a second, and EXISTS, which stops at the first live row: every psql here is a process and a
        # new backend, and a count(*) scanned the whole table, all CPU taken from the drain it measures.
        if psql("SELECT EXISTS (SELECT 1 FROM hookline.jobs)") == "f":
            break
        if time.monotonic() - began > 600:
            raise SystemExit("bench: the drain took over 10 minutes")
    # Timed by the database: from just before the workers started to the last job's finish.
    elapsed = float(psql(f"SELECT extract(epoch FROM max(finished_at) - '{began_at}'::timestamptz) FROM hookline.job_history"))
    stop(work)
    done = psql("SELECT count(*) || ' ' || count(*) FILTER (WHERE outcome = 'succeeded') FROM hookline.job_history")
    runs = int(psql("SELECT count(*) FROM hookline.step_runs"))
    if done != f"{args.drain_jobs} {args.drain_jobs}" or runs != args.drain_jobs:
        raise SystemExit(f"bench: after the drain: history {done}, step runs {runs}")
    return args.drain_jobs / elapsed, peak, anon


def phase_drain():
    note(f"3/5 drain: {args.drain_jobs} jobs, one filter step, hookline work with 1 process")
    rate1, rss1, anon1 = drain(1)
    note(f"3/5 drain: {args.drain_jobs} jobs, one filter step, hookline work with 2 processes")
    rate2, rss2, anon2 = drain(2)
    results["drain_1p_jobs_per_s"] = round(rate1)
    results["drain_2p_jobs_per_s"] = round(rate2)
    results["worker_rss_mib"] = round(max(rss1, rss2), 1)
    # Sampled every second, so a lower bound of the peak.
    results["worker_private_mib"] = round(max(anon1, anon2), 1)




# ---------------------------------------------------------------------------------------------------------
def paced_load(rate, seconds, threads=16):
    """Sends `rate` webhooks per second for `seconds`, each at its scheduled time, over keep-alive
    connections; returns the number answered 202 and the number not."""
    total = int(rate * seconds)
    counter = iter(range(total))
    lock = threading.Lock()
    outcome = {"accepted": 0, "other": 0}
    began = time.monotonic() + 0.2
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def sender():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                break
            delay = began + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            try:
                connection.request("POST", f"/webhooks/{webhook}", body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except OSError:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                status = 0
            with lock:
                outcome["accepted" if status == 202 else "other"] += 1

    pool = [threading.Thread(target=sender) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return outcome["accepted"], outcome["other"]


def phase_latency():
    note(f"4/5 latency: 200 webhooks/s for {args.seconds} s with hookline work running ({args.latency_processes} processes)")
    reset_queue()
    work = start([HOOKLINE, "work", "--processes", str(args.latency_processes), "--log-level", "error"], "work-latency")
    time.sleep(2)
    # Two seconds of the same load first, not counted: the pools open their connections as load needs them.
    paced_load(200, 2)
    measured_from = psql("SELECT clock_timestamp()")
    accepted, other = paced_load(200, args.seconds)
    deadline = time.time() + 60
    while int(psql("SELECT count(*) FROM hookline.jobs")) > 0 and time.time() < deadline:
        time.sleep(0.2)
    stop(work)
    if other:
        raise SystemExit(f"bench: {other} of the paced requests were not answered 202")
    p50, p99, measured = psql(f"""
        SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2) || ' ' ||
               round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 2) || ' ' || count(*)
        FROM (SELECT extract(epoch FROM s.started_at - h.received_at) * 1000 AS ms
              FROM hookline.job_history h JOIN hookline.step_runs s ON s.job_id = h.id AND s.step_id = 'pass'
          WHERE h.received_at >= '{measured_from}'::timestamptz) x
    """).split()
    if int(measured) != accepted:
        raise SystemExit(f"bench: {accepted} webhooks accepted but {measured} first steps recorded")
    results["latency_p50_ms"] = float(p50)
    results["latency_p99_ms"] = float(p99)



# ---------------------------------------------------------------------------------------------------------
def pipeline_maximum():
    """Webhooks a second that ingress and workers sustain together: wrk at full speed for --seconds with the
    workers running; the lower of the rate accepted and the rate finished in that window (whichever side
    the shared cores starve is the limit)."""
    reset_queue()
    began = psql("SELECT clock_timestamp()")
    output = run_wrk(args.seconds)
    ended = psql("SELECT clock_timestamp()")
    accepted = float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1))
    finished = int(psql(f"""SELECT count(*) FROM hookline.job_history
                            WHERE finished_at BETWEEN '{began}'::timestamptz AND '{ended}'::timestamptz"""))
    seconds = float(psql(f"SELECT extract(epoch FROM '{ended}'::timestamptz - '{began}'::timestamptz)"))
    # Let the backlog of the full-speed run drain before the soak starts.
    deadline = time.time() + 600
    while int(psql("SELECT count(*) FROM hookline.jobs")) > 0 and time.time() < deadline:
        time.sleep(0.5)
    return accepted, finished / seconds


def phase_soak():
    work = start([HOOKLINE, "work", "--processes", "2", "--concurrency", str(args.worker_concurrency),
                  "--claim-batch", str(args.claim_batch), "--log-level", "error"], "work-soak")
    time.sleep(2)
    note(f"5/5 soak: the pipeline's maximum (wrk at full speed with the workers running, {args.seconds} s)")
    accepted, finished = pipeline_maximum()
    rate = 0.7 * min(accepted, finished)
    note(f"5/5 soak: {rate:.0f} webhooks/s (70 % of the {min(accepted, finished):.0f} ingress and workers "
         f"sustained together) for {args.soak_seconds} s")
    reset_queue()
    size_before = int(psql("SELECT pg_total_relation_size('hookline.jobs')"))
    soak_began = psql("SELECT now()")
    paced = os.path.join(work_dir, "paced.lua")
    with open(lua, encoding="utf-8") as source, open(paced, "w") as f:
        f.write(source.read())
        # Each of wrk's 2 threads sends its next request at its next slot of a fixed schedule (LuaJIT's FFI
        # reads the monotonic clock), whatever the answers' latency: a fixed delay per connection would add
        # the latency to it and offer less than `rate`.
        f.write(f"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct {{ long tv_sec; long tv_nsec; }} bench_timespec;
int clock_gettime(int clock, bench_timespec *tp);
]]
local now = ffi.new("bench_timespec")
local interval = 2 * 1000.0 / {rate:.3f}
local slot = nil
function delay()
  ffi.C.clock_gettime(1, now)
  local t = tonumber(now.tv_sec) * 1000 + tonumber(now.tv_nsec) / 1e6
  if slot == nil then slot = t end
  slot = slot + interval
  if slot < t then return 0 end
  return slot - t
end
""")
    wrk = subprocess.Popen(
        ["wrk", "-t2", "-c64", f"-d{args.soak_seconds}s", "-s", paced, f"{base}/webhooks/{webhook}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sizes, backlogs = [], []
    began = time.monotonic()
    for minute in range(1, args.soak_seconds // 60 + 1):
        time.sleep(max(0, began + 60 * minute - time.monotonic()))
        sizes.append(round(int(psql("SELECT pg_total_relation_size('hookline.jobs')")) / 2**20, 1))
        backlogs.append(int(psql("SELECT count(*) FROM hookline.jobs")))
    output, errors = wrk.communicate()
    if wrk.returncode != 0:
        raise SystemExit(f"bench: wrk failed: {errors}")
    offered = float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1))
    non2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", output) or [0, 0])[1])
    size_after = int(psql("SELECT pg_total_relation_size('hookline.jobs')"))
    backlog = int(psql("SELECT count(*) FROM hookline.jobs"))
    stop(work)
    minutes = psql(f"""
        SELECT string_agg(n::text, ' ' ORDER BY m) FROM (
            SELECT date_trunc('minute', finished_at - '{soak_began}'::timestamptz + '2000-01-01'::timestamptz) AS m,
                   count(*) AS n
            FROM hookline.job_history WHERE finished_at >= '{soak_began}'::timestamptz GROUP BY 1) x""").split()
    per_minute = [int(n) for n in minutes]
    full = per_minute[: args.soak_seconds // 60]
    first, last = full[0], full[-1]
    results["pipeline_accepted_per_s"] = round(accepted)
    results["pipeline_finished_per_s"] = round(finished)
    results["soak_rate_per_s"] = round(rate)
    results["soak_offered_per_s"] = round(offered)
    results["soak_non_2xx"] = non2xx
    results["soak_completed_per_minute"] = full
    results["soak_decay_pct"] = round(100.0 * (first - last) / first, 1)
    results["soak_backlog_per_minute"] = backlogs
    results["soak_jobs_table_mib_per_minute"] = sizes
    results["soak_jobs_table_bytes_start"] = size_before
    results["soak_jobs_table_bytes_end"] = size_after

for name in ["ceiling", "ingress", "drain", "latency", "soak"]:
    if name in phases:
        globals()[f"phase_{name}"]()

stop(serve)
results["machine"] = f"{os.cpu_count()} cores, {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB"
results["postgresql"] = psql("SHOW server_version")

if args.json:
    print(json.dumps(results, sort_keys=True))
else:
    targets = {
        "ingress_vs_ceiling": ">= 2.0", "ingress_p99_ms": "<= 20", "drain_2p_jobs_per_s": ">= 25000",
        "latency_p50_ms": "<= 5", "latency_p99_ms": "<= 20", "ingress_rss_mib": "<= 64", "worker_rss_mib": "<= 48",
        "soak_decay_pct": "<= 10",
    }
    print(f"{'figure':<28} {'value':>14}  target")
    for key, value in results.items():
        shown = value if not isinstance(value, list) else " ".join(map(str, value))
        print(f"{key:<28} {str(shown):>14}  {targets.get(key, '')}")
