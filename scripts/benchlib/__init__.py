"""The benchmark's parts, run by scripts/bench.py (the entry: the command line, the phases chosen, the table):

  context     Bench, the run's shared state passed to every function that needs it, and note()
  processes   children started and stopped, their memory and CPU, free ports, waiting for HTTP
  database    psql, and the empty queue each phase starts from
  fixture     the setup every phase uses: WAL warm-up, account, cycle, webhook, token, `hookline serve`, body
  load        the load generator, wrk: at full speed, or paced at a fixed rate
  ceiling, insert100, ingress, floor, healthz, peer, drain, claim, latency, soak, mcp, largebodies
              one module per phase
  peer_app    the naive FastAPI + asyncpg ingress the peer phase runs (with uvicorn, in its own venv)
"""
