"""The database: psql, and the empty queue each phase starts from."""
import subprocess


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
