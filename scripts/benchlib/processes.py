"""Child processes: starting and stopping them, their memory and CPU time; free ports; waiting for HTTP."""
import os
import resource
import signal
import socket
import subprocess
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(bench, arguments, name):
    log = open(os.path.join(bench.work_dir, f"{name}.log"), "w")
    process = subprocess.Popen(arguments, stdout=log, stderr=subprocess.STDOUT, env=bench.env)
    bench.children.append(process)
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
    come and go, so they are not counted one by one. Steal (time the hypervisor ran another machine while this
    one wanted a core) is not counted: it is no process's work here, and counted (as runs before 2026-12-01
    did) it went to PostgreSQL's share."""
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq, _steal = map(int, stat.readline().split()[1:9])
    return (user + nice + system + irq + softirq) / CLOCK_TICKS


def children_cpu_seconds():
    """CPU time of this script's waited-for children (wrk, pgbench, psql)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def worker_pids(supervisor):
    found = subprocess.run(["pgrep", "-P", str(supervisor.pid)], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in found]


def wait_http(url, seconds=30, status=200):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == status:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"bench: {url} did not come up")
