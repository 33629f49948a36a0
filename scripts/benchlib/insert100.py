"""Phase 2, a plain batched INSERT: pgbench, 32 clients, each transaction one statement that inserts 100 rows of
a ~1 KB job into hookline.jobs. PostgreSQL's CPU per row here is what a row costs it when rows come in
batches and nothing else is asked of it: the figure to set beside ingress_postgres_cpu_us (its CPU per
webhook through Hookline, whose group commit batches the rows too)."""
import os

from .context import note
from .database import measured_pgbench, psql, reset_queue

ROWS = 100  # rows per statement (and per transaction)


def phase_insert100(bench):
    note(f"2/12 insert100: pgbench, 32 clients, {bench.args.seconds} s, {ROWS} rows of a 1 KB job per INSERT")
    reset_queue(bench)
    script = os.path.join(bench.work_dir, "insert100.sql")
    with open(script, "w") as f:
        f.write(
            "INSERT INTO hookline.jobs (account_id, webhook_id, cycle_id, cycle_version, headers, content_type, body)\n"
            "SELECT :account::uuid, :webhook::uuid, :cycle::uuid, 1, '{}', 'application/json', convert_to(:body, 'UTF8')\n"
            f"FROM generate_series(1, {ROWS});\n")

    tps, processed, machine_cpu, pgbench_cpu = measured_pgbench(
        bench, script, {"account": bench.account, "webhook": bench.webhook, "cycle": bench.cycle, "body": bench.body})
    rows = int(psql(bench, "SELECT count(*) FROM hookline.jobs"))
    if rows != processed * ROWS:
        raise SystemExit(f"bench: pgbench processed {processed} transactions of {ROWS} rows but {rows} jobs exist")
    bench.results["insert100_rows_per_s"] = round(tps * ROWS)
    # As the ceiling's: the machine's busy time less pgbench's, per row.
    bench.results["insert100_postgres_cpu_us_per_row"] = round(1e6 * (machine_cpu - pgbench_cpu) / rows, 1)
