"""What the admin API tests (test_api_flows.py, test_api_errors.py, test_api_schemathesis.py) share: the
served OpenAPI document, HTTP clients that record every answer, the main server's resources and helpers. Not a
test module: conftest.py registers it as a plugin (pytest_plugins), so that its session fixtures are made once for
all those modules; they import its helpers and constants by name.

The admin API (/api/v1) against its OpenAPI document (api/openapi.yaml, served at /api/v1/openapi.json).

Schemathesis fuzzes a Hookline of its own, which scripts/interop starts on a database of its own: the run
revokes, deletes and rewrites whatever it finds. The other tests drive every (operation, status) pair that the
document lists, deliberately, on the main server, through HTTP clients that record every answer; the last test
compares what was reached with what is documented. Idempotency keys, ETags and the rotation of a webhook's
secret are checked end to end."""

import hashlib
import hmac
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from conftest import BASE_URL, hookline, mint_token

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


@pytest.fixture(scope="session")
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


@pytest.fixture(scope="session")
def console() -> dict:
    """A console-level (`api`) client of the main server."""
    return hookline("clients", "create", "--console", "--description", "API tests")


@pytest.fixture(scope="session")
def api(document, console):
    with recording_client(document, mint_token(console)) as client:
        yield client


@pytest.fixture(scope="session")
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


@pytest.fixture(scope="session")
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


def github_signature(secret: str, body: bytes) -> dict:
    """GitHub's signature header of `body` made with `secret`."""
    return {"X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
            "Content-Type": "application/json"}


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
