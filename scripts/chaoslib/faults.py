"""The faults, injected while the load runs, and how long each took to recover from: until the ingress
answered 2xx again (the longest gap between two 2xx answers in the minute after the fault began), and until
the workers had drained the backlog it left (the jobs waiting or running back to what they were before)."""
import asyncio
import os
import signal
import subprocess
import time


class Fault:
    def __init__(self, at, kind, action):
        self.at = at  # seconds after the load starts
        self.kind = kind
        self.action = action  # async callable taking the fault
        self.tracked = None  # for a worker kill: the ids of the jobs the killed process held
        self.started = None
        self.error = None  # why the fault could not be injected, if it could not
        self.backlog_before = None
        self.ingress_recovery = None
        self.drain_recovery = None


def worker_children(supervisor_pid):
    """The worker processes a `hookline work` supervisor runs now (its children, whichever thread started
    them)."""
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == supervisor_pid:  # fields[1] is stat's field 4, the parent's pid
            children.append(int(entry))
    return sorted(children)


def schedule(chaos, seconds, short):
    """The faults of a run whose load lasts `seconds`, spread over it."""
    def at(fraction):
        return seconds * fraction

    faults = []
    if short:
        faults.append(Fault(at(0.45), "PostgreSQL restart (immediate)", lambda _: chaos.restart_postgres("immediate")))
        for fraction in (0.25, 0.70):
            faults.append(Fault(at(fraction), "worker SIGKILL", chaos.kill_worker))
        return sorted(faults, key=lambda fault: fault.at)
    faults.append(Fault(at(0.12), "PostgreSQL restart (fast)", lambda _: chaos.restart_postgres("fast")))
    faults.append(Fault(at(0.42), "PostgreSQL restart (immediate)", lambda _: chaos.restart_postgres("immediate")))
    faults.append(Fault(at(0.72), "PostgreSQL restart (immediate)", lambda _: chaos.restart_postgres("immediate")))
    for k in range(10):
        faults.append(Fault(at(0.05 + 0.09 * k), "worker SIGKILL", chaos.kill_worker))
    faults.append(Fault(at(0.57), "serve instance SIGKILL and restart", lambda _: chaos.kill_serve()))
    faults.append(Fault(at(0.20), "destination 5xx for 20 s", lambda _: chaos.destination_for("error", 20)))
    faults.append(Fault(at(0.30), "destination too slow for 20 s", lambda _: chaos.destination_for("slow", 20)))
    faults.append(Fault(at(0.83), "destination down for 30 s", lambda _: chaos.destination_for("down", 30)))
    return sorted(faults, key=lambda fault: fault.at)


async def inject(chaos, faults, load_start):
    tasks = []
    for fault in faults:
        delay = load_start + fault.at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        fault.backlog_before = await chaos.backlog()
        fault.started = time.monotonic()
        chaos.log(f"fault: {fault.kind}")
        tasks.append(asyncio.create_task(run_fault(chaos, fault)))
    await asyncio.gather(*tasks)


async def run_fault(chaos, fault):
    try:
        await fault.action(fault)
    except Exception as error:  # noqa: BLE001 - any failure to inject is reported, and fails the run
        fault.error = str(error) or type(error).__name__
        chaos.log(f"fault not injected: {fault.kind}: {fault.error}")


def ingress_recovery(fault, ack_times, until):
    """The longest wait for a 2xx answer after the fault began, up to `until` (a minute later, or the next
    fault)."""
    times = [t for t in ack_times if fault.started <= t <= until]
    if not times:
        return None
    # The wait after the last 2xx counts too: an ingress that went quiet and stayed so is not recovered.
    gaps = [times[0] - fault.started] + [b - a for a, b in zip(times, times[1:])] + [until - times[-1]]
    return max(gaps)


async def watch_backlog(chaos, faults, stop):
    """Samples the backlog every second and marks each fault drained once the backlog is back to its level
    before the fault (or to two seconds of load, whichever is more), at least 5 s after the fault began; a
    worker kill once the jobs the killed process held have all left the hot table."""
    while True:
        last = stop.is_set()  # one more look after the drain, which may have ended a fault's wait
        backlog = await chaos.backlog()
        now = time.monotonic()
        for fault in faults:
            if fault.started is None or fault.drain_recovery is not None or backlog is None:
                continue
            if fault.tracked is not None:
                # A killed worker's jobs: drained once none of them is left in the hot table (reclaimed when
                # their lease ran out, and run again).
                if await chaos.remaining(fault.tracked) == 0:
                    fault.drain_recovery = now - fault.started
                continue
            if now - fault.started < 5:
                continue
            if backlog <= max(fault.backlog_before or 0, 2 * chaos.rate):
                fault.drain_recovery = now - fault.started
        if last:
            return
        try:
            await asyncio.wait_for(stop.wait(), 1)
        except asyncio.TimeoutError:
            pass


def kill(pid, sig=signal.SIGKILL, required=True):
    """Signals `pid`. A fault's own target that is not there (no pid, or it had exited) raises, so that a fault
    that hit nothing is recorded as not injected rather than reported as done; for the processes killed along
    with it (`required` False: a killed supervisor's workers, a killed postmaster's backends, which may exit on
    their own first) it returns whether one was there."""
    if pid is None:
        if required:
            raise RuntimeError("no process to kill: its pid is unknown")
        return False
    try:
        os.kill(pid, sig)
        return True
    except ProcessLookupError:
        if required:
            raise RuntimeError(f"no process {pid} to kill: it had already exited") from None
        return False


def run(arguments, env):
    return subprocess.run(arguments, env=env, capture_output=True, text=True)
