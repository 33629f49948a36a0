"""The admin API's 2xx answers through the real flows (and some of the rest on the way), ETags and versions,
the rotation of a webhook's secret and idempotency keys, on the main server (the fixtures are api_support.py's)."""

import json
import uuid

import httpx

from api_support import MAP_STEPS, github_signature, ok, problem, valid_bodies, wait_for_state
from conftest import BASE_URL, mint_token, sql


# 2xx through the real flows, and some of the rest on the way


def test_accounts(api):
    created = ok(api.post("/accounts", json={"name": "Accounts test"}), 201)
    assert uuid.UUID(created["id"]) and created["name"] == "Accounts test" and created["created_at"]
    assert ok(api.get(f"/accounts/{created['id']}")) == created
    assert created in ok(api.get("/accounts"))["items"]


def test_clients(api, resources):
    created = ok(api.post("/clients", json={"scope": "webhook", "account_id": resources.account,
                                            "description": "clients test", "token_lifetime_minutes": 5}), 201)
    client = created["client"]
    assert created["client_secret"] and client["scope"] == "webhook" and client["token_lifetime_seconds"] == 300
    assert client["account_id"] == resources.account and client.get("revoked_at") is None
    shown = ok(api.get(f"/clients/{client['client_id']}"))
    assert shown == client and "client_secret" not in shown
    assert client in ok(api.get("/clients", params={"account_id": resources.account}))["items"]
    assert client in ok(api.get("/clients"))["items"]
    # The secret works until the client is revoked.
    mint_token({"client_id": client["client_id"], "client_secret": created["client_secret"]})
    revoked = ok(api.post(f"/clients/{client['client_id']}/revoke"))
    assert revoked["revoked_at"] is not None
    answer = httpx.post(f"{BASE_URL}/oauth/token", data={"grant_type": "client_credentials"},
                        auth=(client["client_id"], created["client_secret"]), timeout=30)
    assert answer.status_code == 401, answer.text


def test_cycles_etags_and_versions(api, resources):
    """A cycle's ETag is its version, quoted; an update needs If-Match with it (428 without, 412 when stale)."""
    definition = {"name": "versioned", "steps": MAP_STEPS}
    created = api.post("/cycles", json={"account_id": resources.account, "definition": definition})
    body = ok(created, 201)
    cycle_id = body["cycle"]["id"]
    assert created.headers["etag"] == '"1"'
    assert body["cycle"]["version"] == 1 and body["cycle"]["active"] and body["definition"] == definition
    shown = api.get(f"/cycles/{cycle_id}")
    assert ok(shown) == body and shown.headers["etag"] == '"1"'
    assert body["cycle"] in ok(api.get("/cycles", params={"account_id": resources.account}))["items"]
    assert body["cycle"] in ok(api.get("/cycles"))["items"]

    changed = {"name": "versioned", "description": "v2", "steps": MAP_STEPS}
    updated = api.put(f"/cycles/{cycle_id}", json={"definition": changed}, headers={"If-Match": shown.headers["etag"]})
    assert ok(updated)["cycle"]["version"] == 2 and updated.headers["etag"] == '"2"'
    assert [v["version"] for v in updated.json()["versions"]] == [1, 2]
    assert api.get(f"/cycles/{cycle_id}").headers["etag"] == '"2"'
    # Another edit that started from version 1 came too late; one without If-Match is refused outright.
    problem(api.put(f"/cycles/{cycle_id}", json={"definition": definition}, headers={"If-Match": '"1"'}), 412)
    problem(api.put(f"/cycles/{cycle_id}", json={"definition": definition}), 428)
    assert ok(api.get(f"/cycles/{cycle_id}"))["definition"] == changed

    first = ok(api.get(f"/cycles/{cycle_id}/versions/1"))
    assert first["version"] == 1 and first["definition"] == definition
    problem(api.get(f"/cycles/{cycle_id}/versions/3"), 404)
    assert ok(api.post(f"/cycles/{cycle_id}/stop"))["active"] is False
    assert ok(api.post(f"/cycles/{cycle_id}/activate"))["active"] is True


def test_webhooks(api, resources):
    cycle = resources.cycles["orders"]
    created = ok(api.post("/webhooks", json={"account_id": resources.account, "cycle_id": cycle, "auth": "hmac",
                                             "header": "X-Signature", "allow_ips": ["127.0.0.0/8"]}), 201)
    webhook = created["webhook"]
    assert created["secret"] and webhook["url"] == f"/webhooks/{webhook['id']}"
    assert webhook["algorithm"] == "sha256" and webhook["encoding"] == "hex"
    assert ok(api.get(f"/webhooks/{webhook['id']}")) == webhook
    assert webhook in ok(api.get("/webhooks", params={"account_id": resources.account}))["items"]
    assert webhook in ok(api.get("/webhooks"))["items"]
    rotated = ok(api.post(f"/webhooks/{webhook['id']}/rotate-secret"))
    assert rotated["secret"] not in ("", created["secret"]) and rotated["webhook"]["previous_secret_expires_at"]
    # A webhook that signs nothing has no secret to rotate.
    problem(api.post(f"/webhooks/{resources.webhooks['orders']['id']}/rotate-secret"), 409)
    deleted = api.delete(f"/webhooks/{webhook['id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    problem(api.get(f"/webhooks/{webhook['id']}"), 404)
    problem(api.delete(f"/webhooks/{webhook['id']}"), 404)


def test_a_rotated_github_secret_is_accepted_during_its_grace_period(api, resources):
    created = ok(api.post("/webhooks", json={"account_id": resources.account, "cycle_id": resources.cycles["orders"],
                                             "auth": "github", "secret": "the first secret"}), 201)
    url = BASE_URL + created["webhook"]["url"]
    rotated = ok(api.post(f"/webhooks/{created['webhook']['id']}/rotate-secret", json={"grace_seconds": 3600}))
    new = rotated["secret"]
    assert new != "the first secret"
    expires = rotated["webhook"]["previous_secret_expires_at"]
    assert ok(api.get(f"/webhooks/{created['webhook']['id']}"))["previous_secret_expires_at"] == expires

    def deliver(secret: str, n: int) -> int:
        body = json.dumps({"n": n}).encode()
        return httpx.post(url, content=body, headers=github_signature(secret, body), timeout=30).status_code

    assert deliver("the first secret", 1) == 202, "the old secret, within its grace period"
    assert deliver(new, 2) == 202, "the new secret"
    assert deliver("a wrong secret", 3) == 401
    # A second rotation keeps only the secret it replaces: the first one is refused from now on.
    ok(api.post(f"/webhooks/{created['webhook']['id']}/rotate-secret", json={"grace_seconds": 3600}))
    assert deliver("the first secret", 4) == 401
    assert deliver(new, 5) == 202


def test_mcp_servers(api, resources):
    cycles = [resources.cycles["orders"]]
    created = ok(api.post("/mcp-servers", json={"account_id": resources.account, "name": "shop",
                                                "description": "Tools", "auth": "none", "cycle_ids": cycles}), 201)
    assert created["url"] == f"/mcp/{created['id']}" and created["cycle_ids"] == cycles and created["auth"] == "none"
    assert ok(api.get(f"/mcp-servers/{created['id']}")) == created
    assert created in ok(api.get("/mcp-servers", params={"account_id": resources.account}))["items"]
    assert created in ok(api.get("/mcp-servers"))["items"]
    both = [resources.cycles["orders"], resources.cycles["pager"]]
    updated = ok(api.patch(f"/mcp-servers/{created['id']}", json={"description": "More tools", "cycle_ids": both}))
    assert updated["description"] == "More tools" and updated["cycle_ids"] == both and updated["name"] == "shop"
    deleted = api.delete(f"/mcp-servers/{created['id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    problem(api.get(f"/mcp-servers/{created['id']}"), 404)


def test_jobs_page_with_limit_and_next_cursor(api, resources):
    made = [resources.job("pager", {"n": n}) for n in range(5)]
    for job_id in made:
        detail = wait_for_state(api, job_id, "completed")
        assert detail["job"]["cycle_id"] == resources.cycles["pager"] and detail["outcome"] == "succeeded"
        assert detail["step_outputs"]["shape"]["job"] == str(job_id)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"cycle_id": resources.cycles["pager"], "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = ok(api.get("/jobs", params=params))
        pages += 1
        assert len(page["items"]) <= 2
        seen += [job["id"] for job in page["items"]]
        cursor = page.get("next_cursor")
        if cursor is None:
            break
        assert pages < 10, "GET /jobs never stopped paging"
    assert seen == sorted(made, reverse=True), "newest first, each job once"
    assert pages == 3
    completed = ok(api.get("/jobs", params={"account_id": resources.account, "state": "completed", "limit": 500}))
    assert set(made) <= {job["id"] for job in completed["items"]}


def test_cancel_and_retry_a_held_job(api, resources):
    job_id = resources.job("parked", {"n": 1})
    wait_for_state(api, job_id, "held")
    assert ok(api.post(f"/jobs/{job_id}/cancel"))["state"] == "cancelled"
    problem(api.post(f"/jobs/{job_id}/cancel"), 409)  # no longer waiting
    ok(api.post(f"/jobs/{job_id}/retry"))
    wait_for_state(api, job_id, "held")  # its cycle is still stopped
    problem(api.post(f"/jobs/{job_id}/retry"), 409)  # neither dead nor cancelled
    assert ok(api.post(f"/jobs/{job_id}/cancel"))["state"] == "cancelled"
    # A completed job can be neither.
    done = resources.job("orders", {"n": 2})
    wait_for_state(api, done, "completed")
    problem(api.post(f"/jobs/{done}/cancel"), 409)
    problem(api.post(f"/jobs/{done}/retry"), 409)


def test_retry_a_dead_job_alone_and_in_bulk(api, resources):
    job_id = resources.job("doomed", {"n": 1})
    dead = wait_for_state(api, job_id, "dead")
    assert "422" in dead["job"]["last_error"]
    assert ok(api.post(f"/jobs/{job_id}/retry", json={"from_start": True}))["id"] == job_id
    wait_for_state(api, job_id, "dead")  # refused again
    assert ok(api.post("/jobs/retry", json={"cycle_id": resources.cycles["doomed"], "state": "dead"})) == {"retried": 1}
    wait_for_state(api, job_id, "dead")


def test_stats(api, resources):
    states = {"available", "running", "held", "completed", "dead", "cancelled"}
    assert ok(api.get("/stats"))["counts"].keys() == states
    mine = ok(api.get("/stats", params={"account_id": resources.account}))
    assert mine["counts"].keys() == states and mine["counts"]["completed"] >= 1


# Idempotency keys


def test_an_idempotency_key_replays_the_first_answer(api):
    key = f"replay-{uuid.uuid4()}"
    name = f"Idempotent {key}"
    first = api.post("/accounts", json={"name": name}, headers={"Idempotency-Key": key})
    again = api.post("/accounts", json={"name": name}, headers={"Idempotency-Key": key})
    assert ok(first, 201) == ok(again, 201)
    assert "idempotency-replayed" not in first.headers and again.headers["idempotency-replayed"] == "true"
    assert [account["name"] for account in ok(api.get("/accounts"))["items"]].count(name) == 1
    # The same key with another body.
    problem(api.post("/accounts", json={"name": "someone else"}, headers={"Idempotency-Key": key}), 422)


def test_a_repeat_while_the_first_request_runs_is_409(document, api, console, resources):
    """For each operation that takes an Idempotency-Key: a first request, its key's row set back to running
    (status NULL, created now), and the repeat is 409 with Retry-After."""
    bodies = valid_bodies(resources)
    taking_keys = [op for op in document.operations
                   if any(parameter["name"] == "Idempotency-Key" for parameter in op.parameters("header"))]
    assert taking_keys
    for op in taking_keys:
        key = f"running-{op.id}-{uuid.uuid4()}"
        ok(api.post(op.path(), json=bodies[op.id], headers={"Idempotency-Key": key}), 201)
        running = sql("UPDATE hookline.api_idempotency_keys SET status = NULL, content_type = NULL, body = NULL,"
                      " created_at = now() WHERE key = %s AND client_id ="
                      " (SELECT id FROM hookline.oauth_clients WHERE client_id = %s) RETURNING 1",
                      key, console["client_id"])
        assert running == [(1,)], op.id
        repeat = api.post(op.path(), json=bodies[op.id], headers={"Idempotency-Key": key})
        problem(repeat, 409)
        assert repeat.headers.get("retry-after"), op.id
