"""The naive peer the peer phase measures Hookline's ingress against (benchlib/peer.py runs it): a webhook
ingress written as a typical developer would with FastAPI, uvicorn and asyncpg, doing per request the work of
Hookline's bearer webhook, each step its own statement, nothing cached and nothing batched:

  POST /webhooks/{id}   the webhook read (it exists, is active and not deleted; its account and cycle); the
                        `Authorization: Bearer` token's SHA-256 looked up in hookline.access_tokens (scope
                        webhook, not revoked, not expired, the webhook's account); the job inserted (the
                        request's headers but the credential as a JSON object, its content type, the body's
                        bytes), each statement its own transaction; 202 {"job_id": ...}
  GET /healthz          200, for the bench to know it is up

One asyncpg pool per uvicorn worker process, at asyncpg's defaults, on DATABASE_URL. Not part of Hookline:
it runs only in the bench's virtual environment (.hookline/bench-venv)."""
import contextlib
import hashlib
import json
import os
import uuid

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

pool = None


@contextlib.asynccontextmanager
async def lifespan(app):
    global pool
    pool = await asyncpg.create_pool(os.environ["DATABASE_URL"])
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}


@app.post("/webhooks/{webhook_id}")
async def receive(webhook_id: uuid.UUID, request: Request):
    authorization = request.headers.get("authorization", "")
    if not authorization.startswith("Bearer "):
        return JSONResponse({"error": "missing bearer token"}, status_code=401)
    token_hash = hashlib.sha256(authorization[len("Bearer "):].encode()).digest()
    body = await request.body()
    headers = {name: value for name, value in request.headers.items() if name != "authorization"}
    async with pool.acquire() as connection:
        webhook = await connection.fetchrow(
            "SELECT w.account_id, w.cycle_id, c.version FROM hookline.webhooks w"
            " JOIN hookline.cycles c ON c.id = w.cycle_id"
            " WHERE w.id = $1 AND w.active AND w.deleted_at IS NULL", webhook_id)
        if webhook is None:
            return JSONResponse({"error": "no such webhook"}, status_code=404)
        token = await connection.fetchrow(
            "SELECT 1 FROM hookline.access_tokens WHERE token_hash = $1 AND scope = 'webhook'"
            " AND revoked_at IS NULL AND expires_at > now() AND account_id = $2",
            token_hash, webhook["account_id"])
        if token is None:
            return JSONResponse({"error": "invalid token"}, status_code=401)
        job_id = await connection.fetchval(
            "INSERT INTO hookline.jobs (account_id, webhook_id, cycle_id, cycle_version, headers, content_type, body)"
            " VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7) RETURNING id",
            webhook["account_id"], webhook_id, webhook["cycle_id"], webhook["version"], json.dumps(headers),
            request.headers.get("content-type"), body)
    return JSONResponse({"job_id": job_id}, status_code=202)
