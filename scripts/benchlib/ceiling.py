"""Phase 1, the ceiling: pgbench, 32 clients, one statement per transaction that checks a token and inserts a
~1 KB job (per webhook, the work PostgreSQL must do)."""
import hashlib
import os
import re
import subprocess

from .context import note
from .database import psql, reset_queue
from .processes import children_cpu_seconds, machine_cpu_seconds


def phase_ceiling(bench):
    note(f"1/6 ceiling: pgbench, 32 clients, {bench.args.seconds} s, token check + 1 KB job insert per transaction")
    reset_queue(bench)
    script = os.path.join(bench.work_dir, "webhook.sql")
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
             "-D", f"hash={hashlib.sha256(bench.token.encode()).hexdigest()}", "-D", f"webhook={bench.webhook}",
             "-D", f"body={bench.body}",
             bench.url],
            capture_output=True, text=True)
    pgbench(3)  # warm-up, as the ingress has one: connections, caches and WAL segments to recycle
    reset_queue(bench)
    machine_before, pgbench_before = machine_cpu_seconds(), children_cpu_seconds()
    measured = pgbench(bench.args.seconds)
    machine_cpu, pgbench_cpu = machine_cpu_seconds() - machine_before, children_cpu_seconds() - pgbench_before
    if measured.returncode != 0:
        raise SystemExit(f"bench: pgbench failed: {measured.stderr}")
    tps = float(re.search(r"tps = ([0-9.]+) \(without initial connection time\)", measured.stdout).group(1))
    processed = int(re.search(r"number of transactions actually processed: (\d+)", measured.stdout).group(1))
    rows = int(psql(bench, "SELECT count(*) FROM hookline.jobs"))
    if rows != processed:
        raise SystemExit(f"bench: pgbench processed {processed} transactions but {rows} jobs exist")
    bench.results["ceiling_tps"] = round(tps, 1)
    # Where the machine's CPU went, per transaction.
    bench.results["ceiling_postgres_cpu_us"] = round(1e6 * (machine_cpu - pgbench_cpu) / processed, 1)
    bench.results["ceiling_pgbench_cpu_us"] = round(1e6 * pgbench_cpu / processed, 1)
