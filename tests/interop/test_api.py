"""The admin API (/api/v1) against its OpenAPI document (api/openapi.yaml, served at /api/v1/openapi.json).

Schemathesis fuzzes a Hookline of its own, which scripts/interop starts on a database of its own: the run
revokes, deletes and rewrites whatever it finds. The other tests drive every (operation, status) pair that the
document lists, deliberately, on the main server, through HTTP clients that record every answer; the last test
compares what was reached with what is documented. Idempotency keys, ETags and the rotation of a webhook's
secret are checked end to end."""

import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from conftest import BASE_URL, FIGURES, FUZZ_BASE_URL, FUZZ_DATABASE_URL, hookline, mint_token, sql

API = f"{BASE_URL}/api/v1"
HERE = Path(__file__).parent
PROBLEM = "application/problem+json"
JSON_POINTER = re.compile(r"(/([^~/]|~[01])*)*")

# (method, path template, status) of every answer the API tests got from the main server.
REACHED: set[tuple[str, str, int]] = set()

# A map-only cycle: its jobs complete at once.
MAP_STEPS = [{"id": "shape", "type": "map", "fields": {"n": "/n", "job": "{{job_id}}"}}]
# A definition with five problems, each at its own place.
BAD_DEFINITION = {
    "name": "broken",
    "on_error": "explode",
    "retry": {"max_attempts": 0},
    "steps": [
        {"id": "a", "type": "htp"},
        {"id": "b", "type": "filter", "path": "no-slash", "equals": 1},
        {"id": "b", "type": "map", "fields": {"x": "/x"}},
    ],
}
BAD_DEFINITION_POINTERS = {
    "/definition/on_error", "/definition/retry/max_attempts", "/definition/steps/0/type",
    "/definition/steps/1/path", "/definition/steps/2/id",
}
# Path parameters that name nothing (each of the right shape).
UNKNOWN = {
    "account_id": str(uuid.uuid4()), "client_id": "hlc_no-such-client", "webhook_id": str(uuid.uuid4()),
    "cycle_id": str(uuid.uuid4()), "server_id": str(uuid.uuid4()), "job_id": "999999999999", "version": "999",
}


# The document


@dataclass(frozen=True)
class Operation:
    """One operation of the document: its method, its path template and its definition (with the path's
    parameters, references resolved)."""

    method: str
    template: str
    definition: dict

    @property
    def id(self) -> str:
        return self.definition["operationId"]

    @property
    def statuses(self) -> set[int]:
        return {int(status) for status in self.definition["responses"]}

    @property
    def takes_body(self) -> bool:
        return "requestBody" in self.definition

    def parameters(self, location: str) -> list[dict]:
        return [parameter for parameter in self.definition["parameters"] if parameter["in"] == location]

    def matches(self, path: str) -> bool:
        return re.fullmatch(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(self.template)), path) is not None

    def path(self, **values: str) -> str:
        """The path with its parameters filled in: `values`, else ones that name nothing."""
        return self.template.format(**(UNKNOWN | values))


class Document:
    """The operations of the served OpenAPI document."""

    def __init__(self, raw: dict):
        self.raw = raw
        self.operations: list[Operation] = []
        for template, item in raw["paths"].items():
            shared = [self.parameter(parameter) for parameter in item.get("parameters", [])]
            for method in ("get", "put", "post", "patch", "delete"):
                if method in item:
                    definition = dict(item[method])
                    own = [self.parameter(parameter) for parameter in definition.get("parameters", [])]
                    definition["parameters"] = shared + own
                    self.operations.append(Operation(method.upper(), template, definition))

    def resolve(self, node: dict) -> dict:
        """The node a local reference (`{"$ref": "#/components/…"}`) stands for."""
        while "$ref" in node:
            target = self.raw
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def parameter(self, node: dict) -> dict:
        """A parameter, its schema resolved too."""
        parameter = dict(self.resolve(node))
        parameter["schema"] = self.resolve(parameter["schema"])
        return parameter

    def find(self, method: str, path: str) -> Operation | None:
        """The operation a request is for: of the templates that match, the one with the fewest parameters
        (`/jobs/retry` rather than `/jobs/{job_id}`)."""
        candidates = [op for op in self.operations if op.method == method and op.matches(path)]
        return min(candidates, key=lambda op: op.template.count("{"), default=None)

    def listing(self, status: int) -> list[Operation]:
        """The operations that document `status`."""
        return [op for op in self.operations if status in op.statuses]

    def documented(self) -> set[tuple[str, str, int]]:
        return {(op.method, op.template, status) for op in self.operations for status in op.statuses}


@pytest.fixture(scope="module")
def document() -> Document:
    answer = httpx.get(f"{API}/openapi.json", timeout=30)  # no token needed
    assert answer.status_code == 200, answer.text
    return Document(answer.json())


# Clients that record


def recording_client(document: Document, token: str | None = None) -> httpx.Client:
    """An HTTP client of the API that adds (method, path template, status) of every answer to REACHED."""

    def record(response: httpx.Response):
        request = response.request
        path = request.url.path.removeprefix("/api/v1")
        operation = document.find(request.method, path)
        REACHED.add((request.method, operation.template if operation else path, response.status_code))

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=API, headers=headers, timeout=30, event_hooks={"response": [record]})


@pytest.fixture(scope="module")
def console() -> dict:
    """A console-level (`api`) client of the main server."""
    return hookline("clients", "create", "--console", "--description", "API tests")


@pytest.fixture(scope="module")
def api(document, console):
    with recording_client(document, mint_token(console)) as client:
        yield client


@pytest.fixture(scope="module")
def anonymous(document):
    with recording_client(document) as client:
        yield client


def problem(response: httpx.Response, status: int) -> dict:
    """The RFC 9457 problem of an error answer, checked for its status, media type and members."""
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body = response.json()
    assert body["status"] == status and isinstance(body["type"], str) and isinstance(body["title"], str), body
    return body


def ok(response: httpx.Response, status: int = 200) -> dict:
    """The JSON body of a successful answer."""
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    assert response.headers["content-type"].startswith("application/json"), response.headers
    return response.json()


def pointers(response: httpx.Response) -> set[str]:
    """The JSON Pointers of a 422 problem's `errors`, each checked to be one, with its detail."""
    errors = problem(response, 422).get("errors")
    assert errors, response.text
    for error in errors:
        assert JSON_POINTER.fullmatch(error["pointer"]) and error["detail"], error
    return {error["pointer"] for error in errors}


# The main server's resources


@dataclass
class Resources:
    """What the API tests share, made through the API: an account, its cycles by name and a webhook of each."""

    account: str
    cycles: dict[str, str]
    webhooks: dict[str, dict]

    def job(self, cycle: str, payload: dict) -> int:
        """A new job of `cycle`, from a delivery to its webhook (the ingress, not the API): its ID."""
        answer = httpx.post(BASE_URL + self.webhooks[cycle]["url"], json=payload, timeout=30)
        assert answer.status_code == 202, answer.text
        return answer.json()["job_id"]


@pytest.fixture(scope="module")
def resources(api, receiver) -> Resources:
    """An account with four cycles, each with a webhook (`auth: none`): orders (map), pager (map, for
    paging alone), parked (stopped: its jobs wait, held) and doomed (an http step the receiver refuses with
    422: its jobs end dead at once)."""
    account = ok(api.post("/accounts", json={"name": "API tests"}), 201)["id"]
    definitions = {
        "orders": MAP_STEPS,
        "pager": MAP_STEPS,
        "parked": MAP_STEPS,
        "doomed": [{"id": "send", "type": "http", "url": f"{receiver.url}/reject/api", "timeout_seconds": 10}],
    }
    cycles, webhooks = {}, {}
    for name, steps in definitions.items():
        created = ok(api.post("/cycles", json={"account_id": account, "definition": {"name": name, "steps": steps}}),
                     201)
        cycles[name] = created["cycle"]["id"]
        webhook = {"account_id": account, "cycle_id": cycles[name], "auth": "none"}
        webhooks[name] = ok(api.post("/webhooks", json=webhook), 201)["webhook"]
    ok(api.post(f"/cycles/{cycles['parked']}/stop"))
    return Resources(account=account, cycles=cycles, webhooks=webhooks)


def wait_for_state(api: httpx.Client, job_id: int, state: str, seconds: float = 30) -> dict:
    """Polls GET /jobs/{id} until the job is in `state`; its detail."""
    deadline = time.monotonic() + seconds
    while (job := ok(api.get(f"/jobs/{job_id}")))["job"]["state"] != state:
        assert time.monotonic() < deadline, f"job {job_id} is {job['job']['state']}, not {state}: {job}"
        time.sleep(0.1)
    return job


def valid_bodies(resources: Resources) -> dict[str, dict]:
    """A valid body for each operation that takes one (by operation ID), on the shared resources."""
    return {
        "createAccount": {"name": "API tests, another"},
        "createClient": {"scope": "webhook", "account_id": resources.account, "description": "API tests"},
        "createWebhook": {"account_id": resources.account, "cycle_id": resources.cycles["orders"], "auth": "none"},
        "rotateWebhookSecret": {"grace_seconds": 60},
        "createCycle": {"account_id": resources.account, "definition": {"name": "spare", "steps": MAP_STEPS}},
        "updateCycle": {"definition": {"name": "orders", "steps": MAP_STEPS}},
        "createMCPServer": {"account_id": resources.account, "name": "API tests",
                            "cycle_ids": [resources.cycles["orders"]]},
        "updateMCPServer": {"description": "API tests"},
        "retryJob": {"from_start": False},
    }


# Schemathesis, on a server of its own


def seed_fuzz_server(token: str):
    """Gives the fuzzing server something to find (stateful testing follows IDs from list answers): an account
    with an active and a stopped cycle, each with a webhook that signs nothing and one that signs (github), an
    MCP server offering both, and jobs that wait (available or held: that server has no workers)."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"{FUZZ_BASE_URL}/api/v1", headers=headers, timeout=30) as fuzz:
        account = ok(fuzz.post("/accounts", json={"name": "Fuzzed"}), 201)["id"]
        cycles = []
        for name in ("orders", "parked"):
            definition = {"name": name, "steps": MAP_STEPS}
            cycle_id = ok(fuzz.post("/cycles", json={"account_id": account, "definition": definition}), 201)[
                "cycle"]["id"]
            cycles.append(cycle_id)
            webhook = {"account_id": account, "cycle_id": cycle_id}
            ok(fuzz.post("/webhooks", json=webhook | {"auth": "github"}), 201)
            url = FUZZ_BASE_URL + ok(fuzz.post("/webhooks", json=webhook | {"auth": "none"}), 201)["webhook"]["url"]
            if name == "parked":
                ok(fuzz.post(f"/cycles/{cycle_id}/stop"))
            for n in range(3):
                answer = httpx.post(url, json={"n": n}, timeout=30)
                assert answer.status_code == 202, answer.text
        ok(fuzz.post("/mcp-servers", json={"account_id": account, "name": "fuzzed", "cycle_ids": cycles}), 201)


def test_schemathesis_finds_no_failure(tmp_path):
    """Every phase (examples, coverage, fuzzing, stateful through the document's links) with the checks of
    tests/interop/schemathesis.toml: no 5xx, answers that conform to the document (status, media type, headers,
    schema), invalid requests refused, deleted things gone, no operation without authentication. Its summary is
    printed after pytest's."""
    client = hookline("clients", "create", "--console", "--description", "Schemathesis",
                      database_url=FUZZ_DATABASE_URL)
    token = mint_token(client, base_url=FUZZ_BASE_URL)
    seed_fuzz_server(token)
    env = os.environ | {
        "HOOKLINE_FUZZ_TOKEN": token,
        "HOOKLINE_FUZZ_CLIENT_ID": client["client_id"],
        "SCHEMATHESIS_HOOKS": str(HERE / "schemathesis_hooks.py"),
    }
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(HERE / "schemathesis.toml"), "run",
               "--report", "json", "--report-json-path", str(report), f"{FUZZ_BASE_URL}/api/v1/openapi.json"]
    started = time.monotonic()
    # In a directory of its own: whatever Schemathesis or Hypothesis writes lands there.
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    took = time.monotonic() - started
    output = done.stdout + done.stderr
    print(output)  # pytest shows it when the test fails
    summary = output[output.rfind("SUMMARY"):].splitlines()[1:] if "SUMMARY" in output else output.splitlines()[-30:]
    FIGURES.append(f"Schemathesis, {took:.0f} s:")
    FIGURES.extend(f"  {line}" for line in summary
                   if line.strip() and not line.strip().startswith(("Reports:", "- JSON:")))

    assert report.exists(), output
    outcome = json.loads(report.read_text())
    assert not outcome["errors"], output
    found = {(failure["code"], operation) for failure in outcome["failures"] for operation in failure["operations"]}
    details = output[output.find("FAILURES"):] if "FAILURES" in output else output
    assert not found, f"failures {sorted(found)}:\n{details}"
    assert done.returncode == 0, output


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


def github_signature(secret: str, body: bytes) -> dict:
    """GitHub's signature header of `body` made with `secret`."""
    return {"X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
            "Content-Type": "application/json"}


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


# The error statuses of every operation, generically


def test_every_operation_refuses_a_missing_or_account_level_token(document, api, anonymous, resources):
    created = ok(api.post("/clients", json={"scope": "webhook", "account_id": resources.account}), 201)
    account_level = mint_token({"client_id": created["client"]["client_id"], "client_secret": created["client_secret"]})
    for op in document.operations:
        for client, headers in ((anonymous, {}), (api, {"Authorization": f"Bearer {account_level}"})):
            answer = client.request(op.method, op.path(), json={} if op.takes_body else None, headers=headers)
            problem(answer, 401)
            assert answer.headers["www-authenticate"].startswith("Bearer"), op.id


def malformed_requests(op: Operation) -> list[dict]:
    """Requests of `op` that are malformed one way each: a path or query parameter that is not of its type,
    or a body that is not JSON."""
    requests = []
    for parameter in op.parameters("path"):
        schema = parameter["schema"]
        if schema.get("format") == "uuid":
            requests.append({"url": op.path(**{parameter["name"]: "not-a-uuid"})})
        if schema.get("type") == "integer":
            requests.append({"url": op.path(**{parameter["name"]: "one"})})
    for parameter in op.parameters("query"):
        schema = parameter["schema"]
        name = parameter["name"]
        if schema.get("format") == "uuid":
            requests.append({"url": op.path(), "params": {name: "not-a-uuid"}})
        if "enum" in schema:
            requests.append({"url": op.path(), "params": {name: "not-one-of-them"}})
        if "minimum" in schema:
            requests.append({"url": op.path(), "params": {name: schema["minimum"] - 1}})
        if "maximum" in schema:
            requests.append({"url": op.path(), "params": {name: schema["maximum"] + 1}})
        if name == "cursor":
            requests.append({"url": op.path(), "params": {name: "not-a-cursor"}})
    if op.takes_body:
        requests.append({"url": op.path(), "content": b"{not JSON", "headers": {"Content-Type": "application/json"}})
    return requests


def test_malformed_parameters_and_bodies_are_400(document, api):
    for op in document.listing(400):
        requests = malformed_requests(op)
        assert requests, f"{op.id} lists 400, and none of the malformed requests applies to it"
        for request in requests:
            problem(api.request(op.method, **request), 400)


def test_unknown_ids_are_404(document, api, resources):
    bodies = valid_bodies(resources)
    unknown = UNKNOWN["account_id"]
    # Operations without path parameters whose body names something.
    naming_nothing = {
        "createClient": {"scope": "webhook", "account_id": unknown},
        "createWebhook": {"account_id": resources.account, "cycle_id": unknown, "auth": "none"},
        "createCycle": {"account_id": unknown, "definition": {"name": "nowhere", "steps": []}},
        "createMCPServer": {"account_id": resources.account, "name": "nowhere", "cycle_ids": [unknown]},
    }
    for op in document.listing(404):
        headers = {"If-Match": '"1"'} if op.id == "updateCycle" else {}
        if op.parameters("path"):
            body = bodies.get(op.id) if op.takes_body else None
        else:
            body = naming_nothing[op.id]
        problem(api.request(op.method, op.path(), json=body, headers=headers), 404)


def test_invalid_bodies_are_422_with_a_json_pointer_to_each_problem(api, resources):
    account, cycle = resources.account, resources.cycles["orders"]
    github = ok(api.post("/webhooks", json={"account_id": account, "cycle_id": cycle, "auth": "github"}), 201)
    server = ok(api.post("/mcp-servers", json={"account_id": account, "name": "pointers", "cycle_ids": [cycle]}), 201)
    cases = [
        ("POST", "/accounts", {"name": ""}, {"/name"}),
        ("POST", "/accounts", {}, {"/name"}),
        ("POST", "/clients", {"scope": "webhook"}, {"/account_id"}),
        ("POST", "/clients", {"scope": "api", "token_lifetime_minutes": 0}, {"/token_lifetime_minutes"}),
        ("POST", "/webhooks", {"account_id": "nope", "cycle_id": cycle, "auth": "none"}, {"/account_id"}),
        ("POST", "/webhooks", {"account_id": account, "cycle_id": cycle, "auth": "none", "allow_ips": ["nope"]},
         {"/allow_ips"}),
        ("POST", f"/webhooks/{github['webhook']['id']}/rotate-secret", {"grace_seconds": -1}, {"/grace_seconds"}),
        ("POST", "/cycles", {"account_id": account, "definition": BAD_DEFINITION}, BAD_DEFINITION_POINTERS),
        ("PUT", f"/cycles/{cycle}", {"definition": BAD_DEFINITION}, BAD_DEFINITION_POINTERS),
        ("POST", "/mcp-servers", {"account_id": account, "name": "none", "cycle_ids": []}, {"/cycle_ids"}),
        ("PATCH", f"/mcp-servers/{server['id']}", {"name": ""}, {"/name"}),
        # Checked against the document's schema before anything runs: every problem, each at its member.
        ("POST", "/accounts", {"name": "a" * 201}, {"/name"}),
        ("POST", "/clients", {"scope": "api", "token_lifetime_minutes": None, "description": 5},
         {"/token_lifetime_minutes", "/description"}),
        ("POST", "/jobs/1/retry", {"from_start": "yes"}, {"/from_start"}),
        ("POST", "/jobs/retry", {"state": "completed", "from_start": None}, {"/state", "/from_start"}),
    ]
    for method, path, body, expected in cases:
        headers = {"If-Match": "*"} if method == "PUT" else {}
        answer = api.request(method, path, json=body, headers=headers)
        assert pointers(answer) == expected, f"{method} {path} {body}: {answer.text}"


def test_every_documented_status_was_reached(document):
    """The (operation, status) pairs the tests above reached are exactly those the document lists (this test
    comes last: it needs the others of this module to have run). The differences are printed after pytest's
    summary."""
    documented = document.documented()
    gaps = {("never reached", *pair) for pair in documented - REACHED}
    gaps |= {("not documented", *pair) for pair in REACHED - documented}
    lines = [f"{how}: {method} {path} {status}" for how, method, path, status in sorted(gaps)]
    FIGURES.append(f"admin API: {len(documented & REACHED)} of the {len(documented)} documented (operation, status)"
                   f" pairs reached, {len(REACHED - documented)} undocumented ones")
    FIGURES.extend(f"  {line}" for line in lines)
    assert not gaps, "\n".join(lines)
