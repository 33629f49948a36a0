"""The database: psql, the empty queue each phase starts from, and a measured pgbench run."""
import re
import subprocess

from .processes import children_cpu_seconds, machine_cpu_seconds


def psql(bench, sql):
    result = subprocess.run(["psql", bench.url, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"bench: psql failed: {result.stderr.strip()}\n{sql}")
    return result.stdout.strip()


def reset_queue(bench):
    psql(bench, "TRUNCATE hookline.jobs, hookline.job_history, hookline.step_runs, hookline.idempotency_keys")
    psql(bench, "VACUUM ANALYZE hookline.jobs")
    # Each phase starts from a checkpoint, as a run of pgbench should: the pages the last phase dirtied are
    # written now rather than during this one, and its WAL segments are recycled for this phase to write
    # into (a young cluster otherwise creates a file every 16 MB, as no server that has run a while does).
    psql(bench, "CHECKPOINT")


def measured_pgbench(bench, script, variables):
    """pgbench, 32 clients, `script` with `variables` (-D name=value): 3 s of warm-up (connections, caches,
    WAL segments to recycle), an emptied queue, then --seconds measured. Returns tps, the transactions
    processed, and the CPU seconds the machine and pgbench used meanwhile (PostgreSQL's is the difference)."""
    def run(seconds):
        defines = [argument for name, value in variables.items() for argument in ("-D", f"{name}={value}")]
        return subprocess.run(
            ["pgbench", "-n", "-M", "prepared", "-c", "32", "-j", "2", "-T", str(seconds), "-f", script, *defines,
             bench.url],
            capture_output=True, text=True)
    run(3)
    reset_queue(bench)
    machine_before, pgbench_before = machine_cpu_seconds(), children_cpu_seconds()
    measured = run(bench.args.seconds)
    machine_cpu, pgbench_cpu = machine_cpu_seconds() - machine_before, children_cpu_seconds() - pgbench_before
    if measured.returncode != 0:
        raise SystemExit(f"bench: pgbench failed: {measured.stderr}")
    tps = float(re.search(r"tps = ([0-9.]+) \(without initial connection time\)", measured.stdout).group(1))
    processed = int(re.search(r"number of transactions actually processed: (\d+)", measured.stdout).group(1))
    return tps, processed, machine_cpu, pgbench_cpu
