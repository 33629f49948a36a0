"""Phase 6, the naive peer: the ingress phase's very load (wrk -t2 -c64, the 1 KB body with the token, 3 s of
warm-up, then --seconds) on a webhook ingress written as a typical developer would, FastAPI + uvicorn + asyncpg
(benchlib/peer_app.py: per request the webhook read, the token's hash looked up, the job inserted, each its own
statement and commit, nothing cached or batched), run by uvicorn with 2 worker processes (one per core here).
ingress_vs_peer is Hookline's ingress_rps over its rate.

Its packages are installed by the bench itself into a virtual environment, .hookline/bench-venv (kept between
runs); when that cannot be made or pip fails, the phase is skipped with a note and the rest of the bench runs."""
import os
import shutil
import subprocess
import sys

from .context import note
from .database import psql, reset_queue
from .load import run_wrk, wrk_counts
from .processes import (children_cpu_seconds, cpu_seconds, free_port, machine_cpu_seconds, start, stop, wait_http,
                        worker_pids)

HERE = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(os.path.dirname(os.path.dirname(HERE)), ".hookline", "bench-venv")
PACKAGES = ["fastapi", "uvicorn", "asyncpg"]
WORKERS = 2


def make_venv():
    """python3 -m venv, with python3-venv installed by apt-get first if the interpreter lacks ensurepip (as
    Debian's does without it); True when the venv has a working pip."""
    python = os.path.join(VENV, "bin", "python")
    if os.path.exists(python) and subprocess.run([python, "-m", "pip", "--version"], capture_output=True).returncode == 0:
        return True
    shutil.rmtree(VENV, ignore_errors=True)  # a venv made without pip (no ensurepip) is no use
    made = subprocess.run([sys.executable, "-m", "venv", VENV], capture_output=True, text=True)
    if made.returncode != 0 and shutil.which("apt-get"):
        note("6/12 peer: installing python3-venv with apt-get")
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        subprocess.run(sudo + ["apt-get", "update", "-qq"], stdout=subprocess.DEVNULL, stderr=sys.stderr)
        subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "python3-venv"], stdout=subprocess.DEVNULL,
                       stderr=sys.stderr)
        shutil.rmtree(VENV, ignore_errors=True)
        made = subprocess.run([sys.executable, "-m", "venv", VENV], capture_output=True, text=True)
    if made.returncode != 0:
        note(f"6/12 peer: skipped: python3 -m venv {VENV} failed: {made.stderr.strip()[-500:]}")
        return False
    return True


def peer_python():
    """The virtual environment's python with fastapi, uvicorn and asyncpg, made and installed when missing;
    None (after a note saying why) when that fails."""
    python = os.path.join(VENV, "bin", "python")
    if os.path.exists(python) and subprocess.run(
            [python, "-c", "import fastapi, uvicorn, asyncpg"], capture_output=True).returncode == 0:
        return python
    if not make_venv():
        return None
    note(f"6/12 peer: installing {', '.join(PACKAGES)} into {VENV} with pip")
    try:
        pip = subprocess.run([python, "-m", "pip", "install", "-q", *PACKAGES], capture_output=True, text=True,
                             timeout=900)
    except subprocess.TimeoutExpired:
        note("6/12 peer: skipped: pip install took over 15 minutes")
        return None
    if pip.returncode != 0:
        note(f"6/12 peer: skipped: pip install {' '.join(PACKAGES)} failed: {pip.stderr.strip()[-500:]}")
        return None
    return python


def phase_peer(bench):
    python = peer_python()
    if python is None:
        return
    note(f"6/12 peer: wrk, 64 connections, {bench.args.seconds} s, 1 KB JSON with a bearer token to FastAPI + "
         f"uvicorn ({WORKERS} workers) + asyncpg")
    port = free_port()
    peer = start(bench, [python, "-m", "uvicorn", "peer_app:app", "--app-dir", HERE, "--host", "127.0.0.1",
                         "--port", str(port), "--workers", str(WORKERS), "--no-access-log", "--log-level", "warning"],
                 "peer")
    wait_http(f"http://127.0.0.1:{port}/healthz", seconds=60)
    url = f"http://127.0.0.1:{port}/webhooks/{bench.webhook}"
    reset_queue(bench)
    run_wrk(bench, 3, url=url)  # warm-up: both workers up, their pools' connections open
    reset_queue(bench)
    pids = [peer.pid, *worker_pids(peer)]
    peer_before = sum(cpu_seconds(pid) for pid in pids)
    machine_before, wrk_before = machine_cpu_seconds(), children_cpu_seconds()
    output = run_wrk(bench, bench.args.seconds, url=url)
    peer_cpu = sum(cpu_seconds(pid) for pid in pids) - peer_before
    machine_cpu, wrk_cpu = machine_cpu_seconds() - machine_before, children_cpu_seconds() - wrk_before
    stop(peer)
    requests, rate, non2xx = wrk_counts(output)
    rows = int(psql(bench, "SELECT count(*) FROM hookline.jobs"))
    if non2xx != 0:
        raise SystemExit(f"bench: {non2xx} of the peer's responses were not 2xx\n{output}")
    if not (requests <= rows <= requests + 64):
        raise SystemExit(f"bench: wrk counted {requests} answers from the peer but {rows} job rows exist")
    bench.results["peer_rps"] = round(rate, 1)
    # As the ingress's: uvicorn's processes from /proc/<pid>/stat, PostgreSQL the machine's busy time less
    # them and wrk.
    bench.results["peer_cpu_us"] = round(1e6 * peer_cpu / requests, 1)
    bench.results["peer_postgres_cpu_us"] = round(1e6 * (machine_cpu - peer_cpu - wrk_cpu) / requests, 1)
    if "ingress_rps" in bench.results:
        bench.results["ingress_vs_peer"] = round(bench.results["ingress_rps"] / bench.results["peer_rps"], 2)
