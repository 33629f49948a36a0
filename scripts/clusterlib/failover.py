"""scripts/cluster failover: see the header of scripts/cluster.

Under a steady load through HAProxy (scripts/chaoslib's provider, which sends a delivery again with the same
idempotency key after a 5xx, a timeout or a dropped connection), kills with SIGKILL one `hookline serve`, one
worker host's `hookline work` and its worker processes, then Patroni and PostgreSQL (the postmaster and its
children) on the primary node; Patroni promotes the synchronous standby once the leader key expires. Prints
the window during which the ingress answered anything but 2xx, waits for the drain and accounts with
chaoslib.accounting: every acknowledged delivery is one job, finished once. Exits 1 on any loss or double."""
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
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from chaoslib import accounting, faults as faultlib, hotqueue  # noqa: E402
from chaoslib.destination import Destination  # noqa: E402
from chaoslib.provider import Provider, Target  # noqa: E402
from benchlib.processes import free_port  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
HOOKLINE = os.environ.get("HOOKLINE_BIN") or os.path.join(ROOT, ".build", "release", "hookline")
PG_HOSTS = {"pg1": "10.77.0.11", "pg2": "10.77.0.12"}


class RecordingProvider(Provider):
    """chaoslib's provider, also recording when an attempt failed (a non-2xx answer, a refused or dropped
    connection, a timeout): every such attempt goes through `_again`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.failure_times = []

    def _again(self, item):
        self.failure_times.append(time.monotonic())
        super()._again(item)


def log(started, text):
    print(f"failover [{time.monotonic() - started:6.1f}s] {text}", file=sys.stderr, flush=True)


def http_status(url, timeout=2):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def primary():
    for name, ip in PG_HOSTS.items():
        if http_status(f"http://{ip}:8008/primary") == 200:
            return name
    return None


def read_pid(path, first_line=False):
    try:
        with open(path) as file:
            return int(file.readline() if first_line else file.read().strip())
    except (OSError, ValueError):
        return None


class Run:
    def __init__(self, args):
        self.args = args
        self.url = args.database_url
        self.env = dict(os.environ, DATABASE_URL=self.url)
        self.started = time.monotonic()
        self.ingress_host, port = args.ingress.split(":")
        self.ingress_port = int(port)
        self.webhooks = []  # the ids of this run's webhooks

    def log(self, text):
        log(self.started, text)

    def hookline(self, *arguments, stdin=None):
        done = subprocess.run([HOOKLINE, *arguments, "--json"], env=self.env, capture_output=True, text=True,
                              input=stdin, timeout=120, cwd=ROOT)
        if done.returncode != 0:
            raise RuntimeError(f"hookline {' '.join(arguments)}: {done.stderr}")
        return json.loads(done.stdout)

    def setup_targets(self, destination):
        """Three accounts, each with a relay cycle to the destination and one webhook of each scheme (none,
        bearer, Standard Webhooks), as scripts/chaos sets them up."""
        run_tag = datetime.datetime.now(datetime.timezone.utc).strftime("%H%M%S")
        targets = []
        for a in range(3):
            account = self.hookline("accounts", "create", "--name", f"failover-{run_tag}-{a}")["id"]
            cycle = {
                "name": "relay", "retry": {"max_attempts": 40, "backoff_seconds": 1, "max_backoff_seconds": 5},
                "steps": [{"id": "send", "type": "http", "method": "POST", "timeout_seconds": 2,
                           "url": f"http://{destination.host}:{destination.port}/{{{{payload.route}}}}/{{{{payload.account}}}}"}],
            }
            cycle_id = self.hookline("cycles", "create", "--account", account, "--file", "-",
                                     stdin=json.dumps(cycle))["id"]
            client = self.hookline("clients", "create", "--account", account, "--scope", "webhook")
            form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": client["client_id"],
                                           "client_secret": client["client_secret"]}).encode()
            with urllib.request.urlopen(f"http://{self.args.ingress}/oauth/token", form, timeout=30) as answer:
                token = json.load(answer)["access_token"]
            secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
            for scheme in ("none", "bearer", "standard-webhooks"):
                extra = ["--secret", secret] if scheme == "standard-webhooks" else []
                webhook = self.hookline("webhooks", "create", "--account", account, "--cycle", cycle_id,
                                        "--auth", scheme, *extra)
                targets.append(Target(account, webhook["url"], scheme, token=token, secret=secret))
                self.webhooks.append(webhook["id"])
        return targets

    def deliveries_stored_twice(self):
        """Deliveries of this run stored as more than one job. chaoslib.accounting counts this over every
        webhook in the database, and keyless deliveries (NULL keys group together) of an earlier
        `scripts/cluster bench` on the same database would count as one: here only this run's webhooks and
        keys count."""
        ids = ",".join(f"'{webhook}'" for webhook in self.webhooks)
        rows = accounting.psql(self.url, f"""
SELECT count(*) FROM (
  SELECT webhook_id, idempotency_key FROM (
    SELECT webhook_id, idempotency_key FROM hookline.jobs WHERE webhook_id IN ({ids})
    UNION ALL SELECT webhook_id, idempotency_key FROM hookline.job_history WHERE webhook_id IN ({ids})) e
  GROUP BY 1, 2 HAVING count(*) > 1 OR bool_or(idempotency_key IS NULL)) d;
""")
        return int(rows[-1][0])

    # The faults.

    def pid(self, host):
        return read_pid(os.path.join(self.args.state, "run", f"{host}.pid"))

    async def kill_serve(self, fault):
        pid = self.pid("in1")
        faultlib.kill(pid)
        self.log(f"killed hookline serve on in1 (pid {pid})")

    async def kill_work(self, fault):
        supervisor = self.pid("wk1")
        children = faultlib.worker_children(supervisor)
        held = []
        if children:
            try:
                rows = await asyncio.to_thread(
                    accounting.psql, self.url,
                    "SELECT id FROM hookline.jobs WHERE state = 'running' AND split_part(locked_by, '/', 2) = ANY("
                    f"'{{{','.join(map(str, children))}}}'::text[]);\n")
                held = [int(row[0]) for row in rows]
            except RuntimeError:
                pass
        # The supervisor first, so that it does not start replacements.
        faultlib.kill(supervisor)
        for child in children:
            faultlib.kill(child, required=False)
        fault.tracked = held
        self.log(f"killed hookline work on wk1 (supervisor {supervisor}, workers {children}), "
                 f"which held {len(held)} running jobs")

    async def kill_primary(self, fault):
        victim = primary()
        if victim is None:
            self.log("no primary to kill")
            return
        self.victim = victim
        if self.args.primary_fault == "isolate":
            # The host vanishes from the network (its veth down: packets dropped, no RST): its Patroni can no
            # longer renew the leader key and demotes it; open connections to it hang until their timeouts.
            subprocess.run(["ip", "link", "set", f"hlv-{victim}", "down"], check=True)
            self.killed_primary_at = time.monotonic()
            self.log(f"isolated the primary {victim} (hlv-{victim} down)")
        else:
            await self._kill_primary_processes(victim)
        await self._await_promotion(victim)

    async def _kill_primary_processes(self, victim):
        patroni = self.pid(victim)
        postmaster = read_pid(os.path.join(self.args.state, victim, "data", "postmaster.pid"), first_line=True)
        faultlib.kill(patroni)
        backends = faultlib.worker_children(postmaster) if postmaster else []
        if postmaster:
            faultlib.kill(postmaster)
        for backend in backends:
            faultlib.kill(backend, required=False)
        self.killed_primary_at = time.monotonic()
        self.log(f"killed the primary {victim}: Patroni (pid {patroni}), the postmaster (pid {postmaster}) "
                 f"and its {len(backends)} children")

    async def _await_promotion(self, victim):
        survivor = next(name for name in PG_HOSTS if name != victim)
        while time.monotonic() - self.killed_primary_at < 120:
            if await asyncio.to_thread(http_status, f"http://{PG_HOSTS[survivor]}:8008/primary", 1) == 200:
                self.promoted_after = time.monotonic() - self.killed_primary_at
                self.log(f"{survivor} is the primary, {self.promoted_after:.1f} s after the kill")
                return
            await asyncio.sleep(0.2)
        self.log(f"{survivor} was not promoted within 120 s")

    async def backlog(self):
        return await hotqueue.backlog(self.url)

    async def remaining(self, ids):
        return await hotqueue.remaining(self.url, ids)

    async def drained(self, timeout):
        return await hotqueue.drained(self.url, timeout)

def failure_window(fault, failures, until):
    """The first and last failed attempt (non-2xx answer, refused or dropped connection, timeout) after the
    fault began and before `until`, relative to the fault, and how many there were."""
    times = [t for t in failures if fault.started <= t < until]
    if not times:
        return None
    return times[0] - fault.started, times[-1] - fault.started, len(times)


async def progress(run, provider, stop):
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), 5)
        except asyncio.TimeoutError:
            run.log(f"acknowledged {len(provider.acked):,}, requests {provider.sends:,}, "
                    f"failed attempts {len(provider.failure_times):,}")


async def main_async(args):
    run = Run(args)
    run.victim = None
    run.promoted_after = None
    destination = Destination(free_port(), host=args.destination_host)
    await destination.start()
    run.log(f"destination on {destination.host}:{destination.port}; creating accounts, cycles and webhooks")
    targets = run.setup_targets(destination)
    provider = RecordingProvider(run.ingress_port, targets, args.deliveries, args.rate,
                                 give_up_seconds=args.give_up_seconds, host=run.ingress_host)
    seconds = args.deliveries / args.rate
    faults = [
        faultlib.Fault(seconds * 0.20, "serve SIGKILL (in1)", run.kill_serve),
        faultlib.Fault(seconds * 0.30, "hookline work SIGKILL with its workers (wk1)", run.kill_work),
        faultlib.Fault(seconds * 0.45, "primary SIGKILL (Patroni, postmaster and backends)"
                       if args.primary_fault == "kill" else "primary host isolated (its veth down)", run.kill_primary),
    ]
    run.log(f"offering {args.deliveries:,} deliveries at {args.rate:g}/s through HAProxy {args.ingress}")
    stop = asyncio.Event()
    watcher = asyncio.create_task(faultlib.watch_backlog(run_as_chaos(run, args), faults, stop))
    reporter = asyncio.create_task(progress(run, provider, stop))
    load_start = time.monotonic()
    injector = asyncio.create_task(faultlib.inject(run_as_chaos(run, args), faults, load_start))
    await provider.run()
    await injector
    load_done = time.monotonic()
    run.log(f"load done in {load_done - load_start:.0f} s ({provider.sends:,} requests); draining")
    drained = await run.drained(args.drain_seconds)
    drain_seconds = time.monotonic() - load_done
    stop.set()
    await watcher
    await reporter
    run.log("drained" if drained else f"not drained after {args.drain_seconds} s")
    for fault, following in zip(faults, faults[1:] + [None]):
        # Up to a minute, the next fault or the end of the load, whichever comes first (after the load
        # there is nothing to answer: chaoslib counts the wait after the last 2xx).
        until = min(fault.started + 60, following.started if following and following.started else float("inf"),
                    load_done)
        fault.ingress_recovery = faultlib.ingress_recovery(fault, provider.ack_times, until)
        fault.window = failure_window(fault, provider.failure_times, until)
    figures = accounting.account(run.url, provider, destination)
    figures["jobs_per_delivery_over_1"] = run.deliveries_stored_twice()
    await destination.stop()
    # The raw times, relative to the start of the load, for a closer look.
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    with open(os.path.join(args.state, "logs", f"failover-{stamp}.json"), "w") as f:
        json.dump({"faults": {fault.kind: fault.started - load_start for fault in faults},
                   "acks": [round(t - load_start, 3) for t in provider.ack_times],
                   "failures": [round(t - load_start, 3) for t in provider.failure_times]}, f)
    figures["drain_seconds"] = round(drain_seconds)
    return report(args, run, provider, faults, figures, drained, load_done - load_start)


def run_as_chaos(run, args):
    """The object faultlib's inject and watch_backlog expect (log, backlog, remaining, rate)."""
    run.rate = args.rate
    return run


def report(args, run, provider, faults, figures, drained, seconds):
    rows = [
        ("deliveries offered", args.deliveries),
        ("acknowledged (2xx)", len(provider.acked)),
        ("requests sent (with the provider's retries)", provider.sends),
        ("failed attempts (non-2xx, refused or dropped connection, timeout), sent again", len(provider.failure_times)),
        ("refused for good by the ingress (4xx)", len(provider.refused)),
        ("given up by the provider", provider.given_up),
        ("acknowledged twice as different jobs", provider.conflicting),
        ("**lost** (acknowledged, no job)", figures["lost"]),
        ("deliveries stored as more than one job (or without their key)", figures["jobs_per_delivery_over_1"]),
        # These two come with newer chaoslib.accounting; "n/a" with an older one.
        ("deliveries acknowledged with another delivery's job", figures.get("sharing_a_job", "n/a")),
        ("acknowledged jobs whose idempotency key is not their delivery's", figures.get("foreign_key", "n/a")),
        ("**jobs finished twice** (recorded twice, or whose call succeeded more often than they had attempts)",
         figures["finished_twice"]),
        ("jobs recorded completed without their call's 2xx at the destination",
         figures.get("completed_without_a_2xx", "n/a")),
        ("jobs completed", figures["completed"]),
        ("jobs dead, refused by the destination (422), with their reason", figures["dead_refused"]),
        ("jobs dead without a reason", figures["dead_without_reason"]),
        ("jobs that ended otherwise than expected", figures["unexpected_end"]),
        ("seconds from the end of the load to an empty hot table", figures["drain_seconds"]),
        ("left in the hot table after the drain", figures["left_in_hot_table"]),
        ("destination calls", figures["calls"]),
        ("destination calls without Idempotency-Key", figures["keyless_calls"]),
        ("destination calls for jobs not acknowledged", figures["calls_for_unknown_jobs"]),
        ("repeated destination calls (each with its job's key)", figures["repeated_calls"]),
        ("old primary, killed", run.victim or "none"),
        ("seconds from the primary's kill to the standby's promotion (Patroni REST)",
         f"{run.promoted_after:.1f}" if run.promoted_after is not None else "not promoted"),
    ]
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    print(f"\n`scripts/cluster failover --deliveries {args.deliveries} --rate {args.rate:g}"
          f"{' --primary-fault isolate' if args.primary_fault == 'isolate' else ''}`"
          f"{', the PgBouncer variant' if args.variant == 'pgbouncer' else ''}, {date}, "
          f"load {seconds:.0f} s\n")
    print("| figure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value:,} |" if isinstance(value, int) else f"| {name} | {value} |")
    print("\n| fault | at (s) | non-2xx window: first to last failed attempt after it (count) | "
          "longest wait for a 2xx after it | until its backlog was drained |\n|---|---|---|---|---|")
    for fault in faults:
        window = (f"{fault.window[0]:.1f} s to {fault.window[1]:.1f} s ({fault.window[2]:,})"
                  if fault.window else "none")
        ingress = f"{fault.ingress_recovery:.1f} s" if fault.ingress_recovery is not None else "no 2xx in 60 s"
        drain = f"{fault.drain_recovery:.1f} s" if fault.drain_recovery is not None else "not within the run"
        if fault.error:
            ingress = f"not injected: {fault.error}"
        print(f"| {fault.kind} | {fault.at:.0f} | {window} | {ingress} | {drain} |")
    failures = accounting.failures(figures, provider, drained)
    if any(fault.error for fault in faults):
        failures.append("a fault could not be injected")
    if run.promoted_after is None:
        failures.append("the standby was not promoted")
    for failure in failures:
        print(f"failover: FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


def main():
    # This script's own psql calls try the hosts in order too: with a host off the network, give each 3 s
    # rather than libpq's default of waiting as long as TCP does.
    os.environ.setdefault("PGCONNECT_TIMEOUT", "3")
    parser = argparse.ArgumentParser(prog="scripts/cluster failover")
    parser.add_argument("--deliveries", type=int, default=4000)
    parser.add_argument("--rate", type=float, default=80.0, help="deliveries offered per second")
    parser.add_argument("--primary-fault", choices=("kill", "isolate"), default="kill",
                        help="kill: SIGKILL Patroni, the postmaster and its children on the primary; isolate: "
                             "take the primary host off the network (its veth down), processes left running")
    parser.add_argument("--drain-seconds", type=int, default=300)
    parser.add_argument("--give-up-seconds", type=int, default=600)
    parser.add_argument("--state", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--ingress", required=True, help="HAProxy's frontend, host:port")
    parser.add_argument("--destination-host", required=True, help="the root namespace's address on the bridge")
    parser.add_argument("--variant", default="direct", help="direct or pgbouncer (what scripts/cluster up built)")
    args = parser.parse_args()
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
