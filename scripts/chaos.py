"""scripts/chaos: see the header of scripts/chaos."""
import argparse
import asyncio
import base64
import datetime
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chaoslib import accounting, faults as faultlib, hotqueue  # noqa: E402
from chaoslib.destination import Destination  # noqa: E402
from chaoslib.provider import Provider, Target  # noqa: E402
from chaoslib.proxy import Proxy  # noqa: E402
from benchlib.processes import free_port, wait_http  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOOKLINE = os.environ.get("HOOKLINE_BIN") or os.path.join(ROOT, ".build", "debug", "hookline")


class Chaos:
    def __init__(self, args):
        self.args = args
        self.rate = args.rate
        self.work_dir = args.work_dir
        self.pg_env = dict(os.environ, HOOKLINE_PG_DIR=os.path.join(ROOT, ".hookline", "pg-chaos"),
                           HOOKLINE_PG_PORT=str(args.pg_port))
        self.url = None
        self.env = None
        self.serves = {}  # port -> Popen
        self.work = None
        self.destination = None
        self.started_at = time.monotonic()

    def log(self, text):
        print(f"chaos [{time.monotonic() - self.started_at:7.1f}s] {text}", file=sys.stderr, flush=True)

    # The cluster, the database, the processes.

    def pg(self, *arguments):
        done = subprocess.run([os.path.join(ROOT, "scripts", "pg"), *arguments], env=self.pg_env,
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"scripts/pg {' '.join(arguments)}: {done.stderr}")
        return done.stdout.strip()

    def prepare_database(self):
        self.pg("start")
        admin = self.pg("url")
        accounting.psql(admin, "DROP DATABASE IF EXISTS chaos WITH (FORCE);\nCREATE DATABASE chaos;\n")
        self.url = urllib.parse.urlunsplit(urllib.parse.urlsplit(admin)._replace(path="/chaos"))
        self.env = dict(os.environ, DATABASE_URL=self.url)
        self.hookline("migrate")

    def hookline(self, *arguments, parse=False):
        done = subprocess.run([HOOKLINE, *arguments], env=self.env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"hookline {' '.join(arguments)}: {done.stderr}")
        return json.loads(done.stdout) if parse else done.stdout

    def start_serve(self, port):
        log = open(os.path.join(self.work_dir, f"serve-{port}.log"), "a")
        self.serves[port] = subprocess.Popen(
            [HOOKLINE, "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            stdout=log, stderr=subprocess.STDOUT, env=self.env)
        wait_http(f"http://127.0.0.1:{port}/readyz", 60)

    def start_work(self):
        log = open(os.path.join(self.work_dir, "work.log"), "a")
        self.work = subprocess.Popen(
            [HOOKLINE, "work", "--allow-private-destinations", "--processes", str(self.args.worker_processes),
             "--concurrency", "32", "--poll-ms", "200", "--log-level", "warning"],
            stdout=log, stderr=subprocess.STDOUT, env=self.env)

    def stop_all(self):
        for process in [*self.serves.values(), self.work]:
            if process and process.poll() is None:
                process.terminate()
        for process in [*self.serves.values(), self.work]:
            if process:
                try:
                    process.wait(60)
                except subprocess.TimeoutExpired:
                    process.kill()

    def setup_targets(self, serve_port, destination_port):
        """Three accounts, each with a relay cycle and one webhook of each scheme (none, bearer, Standard
        Webhooks)."""
        targets = []
        for a in range(3):
            account = self.hookline("accounts", "create", "--name", f"chaos-{a}", "--json", parse=True)["id"]
            cycle = {
                "name": "relay", "retry": {"max_attempts": 40, "backoff_seconds": 1, "max_backoff_seconds": 5},
                "steps": [{"id": "send", "type": "http", "method": "POST", "timeout_seconds": 2,
                           "url": f"http://127.0.0.1:{destination_port}/{{{{payload.route}}}}/{{{{payload.account}}}}"}],
            }
            done = subprocess.run([HOOKLINE, "cycles", "create", "--account", account, "--file", "-", "--json"],
                                  input=json.dumps(cycle), env=self.env, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(done.stderr)
            cycle_id = json.loads(done.stdout)["id"]
            client = self.hookline("clients", "create", "--account", account, "--scope", "webhook", "--json",
                                   parse=True)
            form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": client["client_id"],
                                           "client_secret": client["client_secret"]}).encode()
            with urllib.request.urlopen(f"http://127.0.0.1:{serve_port}/oauth/token", form, timeout=30) as answer:
                token = json.load(answer)["access_token"]
            secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
            for scheme in ("none", "bearer", "standard-webhooks"):
                extra = ["--secret", secret] if scheme == "standard-webhooks" else []
                webhook = self.hookline("webhooks", "create", "--account", account, "--cycle", cycle_id,
                                        "--auth", scheme, *extra, "--json", parse=True)
                targets.append(Target(account, webhook["url"], scheme, token=token, secret=secret))
        return targets

    # The faults.

    async def backlog(self):
        return await hotqueue.backlog(self.url)

    async def restart_postgres(self, mode):
        await asyncio.to_thread(self.pg, "restart", mode)

    async def kill_worker(self, fault):
        children = faultlib.worker_children(self.work.pid)
        if not children:
            raise RuntimeError("the supervisor had no worker process to kill")
        victim = children[0]
        rows = await asyncio.to_thread(
            accounting.psql, self.url,
            f"SELECT id FROM hookline.jobs WHERE state = 'running' AND split_part(locked_by, '/', 2) = '{victim}';\n")
        faultlib.kill(victim)
        fault.tracked = [int(row[0]) for row in rows]
        self.log(f"killed worker process {victim}, which held {len(fault.tracked)} running jobs")

    async def remaining(self, ids):
        return await hotqueue.remaining(self.url, ids)

    async def kill_serve(self):
        port = sorted(self.serves)[0]
        faultlib.kill(self.serves[port].pid)
        self.serves[port].wait()
        await asyncio.sleep(3)
        await asyncio.to_thread(self.start_serve, port)

    async def destination_for(self, mode, seconds):
        await self.destination.set_mode(mode)
        await asyncio.sleep(seconds)
        await self.destination.set_mode("ok")

    async def vacuumed(self, timeout):
        """Seconds until autovacuum (not this script) has left the hot table fewer dead rows than its threshold
        (`autovacuum_vacuum_threshold`, under which it does not act), or None."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            rows = await asyncio.to_thread(
                accounting.psql, self.url,
                "SELECT n_dead_tup <= current_setting('autovacuum_vacuum_threshold')::int FROM pg_stat_user_tables "
                "WHERE schemaname = 'hookline' AND relname = 'jobs';\n")
            if rows and rows[0][0] == "t":
                return round(time.monotonic() - start)
            await asyncio.sleep(2)
        return None

    async def drained(self, timeout):
        return await hotqueue.drained(self.url, timeout)


async def run(chaos):
    args = chaos.args
    serve_ports = [free_port(), free_port()]
    proxy_port, destination_port = free_port(), free_port()
    chaos.log("preparing the database")
    chaos.prepare_database()
    for port in serve_ports:
        chaos.start_serve(port)
    chaos.destination = Destination(destination_port)
    await chaos.destination.start()
    targets = chaos.setup_targets(serve_ports[0], destination_port)
    chaos.start_work()
    floor = int(accounting.psql(chaos.url, "SELECT pg_total_relation_size('hookline.jobs');\n")[0][0])
    proxy = Proxy(proxy_port, [("127.0.0.1", port) for port in serve_ports])
    await proxy.start()
    provider = Provider(proxy_port, targets, args.deliveries, args.rate, give_up_seconds=args.give_up_seconds)
    load_seconds = args.deliveries / args.rate
    faults = faultlib.schedule(chaos, load_seconds, args.short)
    chaos.log(f"offering {args.deliveries} deliveries at {args.rate}/s over {len(targets)} webhooks; "
              f"{len(faults)} faults")
    stop_watching = asyncio.Event()
    watcher = asyncio.create_task(faultlib.watch_backlog(chaos, faults, stop_watching))
    load_start = time.monotonic()
    injector = asyncio.create_task(faultlib.inject(chaos, faults, load_start))
    await provider.run()
    await injector
    load_done = time.monotonic()
    chaos.log(f"load done in {load_done - load_start:.0f} s ({provider.sends} requests); draining")
    await chaos.destination.set_mode("ok")
    drained = await chaos.drained(args.drain_seconds)
    drain_seconds = time.monotonic() - load_done
    stop_watching.set()
    await watcher
    vacuumed = await chaos.vacuumed(90)
    chaos.log("drained" if drained else f"not drained after {args.drain_seconds} s")
    for fault, following in zip(faults, faults[1:] + [None]):
        if fault.started is None:
            continue
        # Up to a minute, the next fault, or the end of the load (after it no answer is awaited).
        until = min(fault.started + 60, load_done,
                    following.started if following and following.started else float("inf"))
        fault.ingress_recovery = faultlib.ingress_recovery(fault, provider.ack_times, until)
    figures = accounting.account(chaos.url, provider, chaos.destination)
    figures["hot_table_bytes_before"] = floor
    await proxy.stop()
    await chaos.destination.stop()
    figures["drain_seconds"] = round(drain_seconds)
    figures["vacuumed_seconds"] = vacuumed
    return report(args, provider, faults, figures, drained, load_done - load_start)


def report(args, provider, faults, figures, drained, seconds):
    acknowledged = len(provider.acked)
    rows = [
        ("deliveries offered", args.deliveries),
        ("acknowledged (2xx)", acknowledged),
        ("requests sent (with the provider's retries)", provider.sends),
        ("refused for good by the ingress (4xx)", len(provider.refused)),
        ("given up by the provider", provider.given_up),
        ("acknowledged twice as different jobs", provider.conflicting),
        ("2xx answers without a job id", provider.malformed),
        ("deliveries answered with another delivery's job", figures["sharing_a_job"]),
        ("acknowledged jobs whose idempotency key is not their delivery's", figures["foreign_key"]),
        ("**lost** (acknowledged, no job)", figures["lost"]),
        ("deliveries stored as more than one job", figures["jobs_per_delivery_over_1"]),
        ("**jobs finished twice** (recorded twice, or whose call succeeded more often than they had attempts)",
         figures["finished_twice"]),
        ("jobs recorded completed without their call's 2xx at the destination", figures["completed_without_a_2xx"]),
        ("jobs completed", figures["completed"]),
        ("jobs dead, refused by the destination (422), with their reason", figures["dead_refused"]),
        ("jobs dead without a reason", figures["dead_without_reason"]),
        ("jobs that ended otherwise than expected", figures["unexpected_end"]),
        ("seconds from the end of the load to an empty hot table", figures["drain_seconds"]),
        ("left in the hot table after the drain", figures["left_in_hot_table"]),
        ("hot table before the load (bytes, with indexes)", figures["hot_table_bytes_before"]),
        ("hot table after the drain (bytes, with indexes; its pages free for reuse)", figures["hot_table_bytes"]),
        ("seconds after the drain until autovacuum had reclaimed its dead rows (to under its threshold)",
         figures["vacuumed_seconds"] if figures["vacuumed_seconds"] is not None else "not within 90 s"),
        ("destination calls", figures["calls"]),
        ("destination calls without Idempotency-Key", figures["keyless_calls"]),
        ("destination calls for jobs not acknowledged", figures["calls_for_unknown_jobs"]),
        ("repeated destination calls (each with its job's key)", figures["repeated_calls"]),
        ("faults injected", sum(1 for fault in faults if fault.started is not None and fault.error is None)),
        ("faults that could not be injected", sum(1 for fault in faults if fault.error is not None)),
    ]
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    command = "scripts/chaos" + (" --release" if os.environ.get("HOOKLINE_CHAOS_RELEASE") else "") + (" --short" if args.short else "") + f" --deliveries {args.deliveries} --rate {args.rate:g}"
    print(f"\n`{command}`, {date}, load {seconds:.0f} s\n")
    print("| figure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value:,} |" if isinstance(value, int) else f"| {name} | {value} |")
    print("\n| fault | at (s) | until the ingress answered 2xx again | until the backlog was drained |\n|---|---|---|---|")
    for fault in faults:
        ingress = f"{fault.ingress_recovery:.1f} s" if fault.ingress_recovery is not None else "no 2xx in 60 s"
        if fault.error:
            ingress = f"not injected: {fault.error}"
        drain = f"{fault.drain_recovery:.1f} s" if fault.drain_recovery is not None else "not within the run"
        print(f"| {fault.kind} | {fault.at:.0f} | {ingress} | {drain} |")
    failures = accounting.failures(figures, provider, drained)
    if any(fault.error for fault in faults):
        failures.append("a fault could not be injected")
    for failure in failures:
        print(f"chaos: FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(prog="scripts/chaos")
    parser.add_argument("--deliveries", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=300.0, help="deliveries offered per second")
    parser.add_argument("--minutes", type=float, help="spread the load over this many minutes (sets the rate)")
    parser.add_argument("--short", action="store_true",
                        help="the short run's faults: one PostgreSQL restart, two worker kills")
    parser.add_argument("--worker-processes", type=int, default=2)
    parser.add_argument("--drain-seconds", type=int, default=300)
    parser.add_argument("--give-up-seconds", type=int, default=600)
    parser.add_argument("--pg-port", type=int, default=54349)
    parser.add_argument("--work-dir", required=True)
    args = parser.parse_args()
    if args.minutes:
        args.rate = args.deliveries / (args.minutes * 60)
    chaos = Chaos(args)
    try:
        status = asyncio.run(run(chaos))
    finally:
        chaos.stop_all()
    sys.exit(status)


if __name__ == "__main__":
    main()
