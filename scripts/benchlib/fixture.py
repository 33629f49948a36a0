"""The setup every phase uses, run once before them: 1 GB of WAL written and checkpointed; an account, a cycle
with one passing filter step, a bearer webhook, a client and a token; `hookline serve` running; the 1 KB
JSON body; wrk's script. What the phases need of it is kept in the Bench."""
import base64
import json
import os
import subprocess
import urllib.request

from .context import note
from .database import psql
from .processes import free_port, start, wait_http


def hookline(bench, *arguments):
    result = subprocess.run([bench.hookline, *arguments, "--json"], capture_output=True, text=True, env=bench.env)
    if result.returncode != 0:
        raise SystemExit(f"bench: hookline {' '.join(arguments)} failed: {result.stderr.strip()}")
    return json.loads(result.stdout)


def access_token(bench, client):
    """A bearer token for `client` (as `hookline clients create --json` printed it) from POST /oauth/token."""
    request = urllib.request.Request(
        f"{bench.base}/oauth/token", data=b"grant_type=client_credentials",
        headers={"Authorization":
                 "Basic " + base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode(),
                 "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)["access_token"]


def prepare(bench):
    # A fresh cluster has one WAL segment and creates each next one as it goes; a server that has run a while
    # writes into segments its checkpoints recycled. About 1 GB of WAL and a checkpoint first give every phase
    # recycled segments to write into (min_wal_size keeps 1 GB of them): before this, a 20 s ingress run found
    # 11 segments ahead and wrote 13, so it created files (and synced their allocation) as it ran.
    note("writing 1 GB of WAL once: every phase then writes into recycled, already allocated WAL segments")
    psql(bench, "CREATE TABLE bench_wal_warmup AS SELECT repeat('x', 1000) AS pad FROM generate_series(1, 900000)")
    psql(bench, "DROP TABLE bench_wal_warmup")
    psql(bench, "CHECKPOINT")
    note("setting up an account, a cycle, a webhook, a client and a token")
    bench.account = hookline(bench, "accounts", "create", "--name", "bench")["id"]
    cycle_file = os.path.join(bench.work_dir, "cycle.json")
    with open(cycle_file, "w") as f:
        json.dump({"name": "bench", "steps": [{"id": "pass", "type": "filter", "path": "/type", "equals": "order.created"}]}, f)
    bench.cycle = hookline(bench, "cycles", "create", "--account", bench.account, "--file", cycle_file)["id"]
    bench.webhook = hookline(bench, "webhooks", "create", "--account", bench.account, "--cycle", bench.cycle,
                             "--auth", "bearer")["id"]
    client = hookline(bench, "clients", "create", "--account", bench.account, "--scope", "webhook")

    bench.port = free_port()
    # At its defaults (the access log off): what users run.
    bench.serve = start(bench, [bench.hookline, "serve", "--port", str(bench.port)], "serve")
    bench.base = f"http://127.0.0.1:{bench.port}"
    wait_http(f"{bench.base}/readyz")
    bench.token = access_token(bench, client)

    # A 1 KB JSON body.
    body = json.dumps({"type": "order.created", "id": "evt_0001", "data": {"pad": ""}}, separators=(",", ":"))
    body = json.dumps({"type": "order.created", "id": "evt_0001", "data": {"pad": "x" * (1024 - len(body))}},
                      separators=(",", ":"))
    assert len(body) == 1024
    bench.body = body

    bench.lua = os.path.join(bench.work_dir, "post.lua")
    with open(bench.lua, "w") as f:
        f.write('wrk.method = "POST"\n')
        f.write(f"wrk.body = {json.dumps(bench.body)}\n")
        f.write('wrk.headers["Content-Type"] = "application/json"\n')
        f.write(f'wrk.headers["Authorization"] = "Bearer {bench.token}"\n')
