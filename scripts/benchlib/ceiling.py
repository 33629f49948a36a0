"""Phase 1, the ceiling: pgbench, 32 clients, one statement per transaction that checks a token and inserts a
~1 KB job (per webhook, the work PostgreSQL must do)."""
import hashlib
import os

from .context import note
from .database import measured_pgbench, psql, reset_queue


def phase_ceiling(bench):
    note(f"1/12 ceiling: pgbench, 32 clients, {bench.args.seconds} s, token check + 1 KB job insert per transaction")
    reset_queue(bench)
    script = os.path.join(bench.work_dir, "webhook.sql")
    with open(script, "w") as f:
        f.write(
            "INSERT INTO hookline.jobs (account_id, webhook_id, cycle_id, cycle_version, headers, content_type, body)\n"
            "SELECT t.account_id, w.id, w.cycle_id, 1, '{}', 'application/json', convert_to(:body, 'UTF8')\n"
            "FROM hookline.access_tokens t JOIN hookline.webhooks w ON w.account_id = t.account_id\n"
            "WHERE t.token_hash = decode(:hash, 'hex') AND t.scope = 'webhook' AND t.revoked_at IS NULL\n"
            "  AND t.expires_at > now() AND w.id = :webhook::uuid AND w.deleted_at IS NULL;\n")
    tps, processed, machine_cpu, pgbench_cpu = measured_pgbench(
        bench, script,
        {"hash": hashlib.sha256(bench.token.encode()).hexdigest(), "webhook": bench.webhook, "body": bench.body})
    rows = int(psql(bench, "SELECT count(*) FROM hookline.jobs"))
    if rows != processed:
        raise SystemExit(f"bench: pgbench processed {processed} transactions but {rows} jobs exist")
    bench.results["ceiling_tps"] = round(tps, 1)
    # Where the machine's CPU went, per transaction.
    bench.results["ceiling_postgres_cpu_us"] = round(1e6 * (machine_cpu - pgbench_cpu) / processed, 1)
    bench.results["ceiling_pgbench_cpu_us"] = round(1e6 * pgbench_cpu / processed, 1)
