"""Fixtures of the interoperability tests: the running Hookline (started by scripts/interop), a local HTTP
receiver for http steps, and the accounts, cycles, MCP servers and OAuth clients the tests share, all made
with the hookline CLI on the throwaway database."""

import hashlib
import json
import os
import subprocess
import threading
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import httpx2
import psycopg
import pytest
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client

try:
    BaseExceptionGroup
except NameError:  # Python 3.10: anyio's backport
    from exceptiongroup import BaseExceptionGroup

BASE_URL = os.environ.get("HOOKLINE_INTEROP_BASE_URL", "")
HOOKLINE = os.environ.get("HOOKLINE_BIN", "")
# A second server, on a database of its own, that only Schemathesis uses (test_api_schemathesis.py).
FUZZ_BASE_URL = os.environ.get("HOOKLINE_INTEROP_FUZZ_BASE_URL", "")
FUZZ_DATABASE_URL = os.environ.get("HOOKLINE_INTEROP_FUZZ_DATABASE_URL", "")

# The admin API tests' and the console tests' fixtures (session-scoped), made once for all their modules: plugins
# rather than names imported into each module, which would make each module a set of its own.
pytest_plugins = ["api_support", "console_support"]

# The job tools every Hookline MCP server offers besides its cycles.
JOB_TOOLS = {"get_job", "list_jobs", "queue_stats", "retry_job", "cancel_job"}
JOB_STATES = {"available", "running", "held", "completed", "dead", "cancelled"}


# Figures the tests measured, printed after pytest's summary.
FIGURES: list[str] = []


def pytest_terminal_summary(terminalreporter):
    for line in FIGURES:
        terminalreporter.write_line(f"interop: {line}")


def pytest_configure(config):
    if not all([BASE_URL, HOOKLINE, os.environ.get("DATABASE_URL"), FUZZ_BASE_URL, FUZZ_DATABASE_URL]):
        raise pytest.UsageError("run these tests through scripts/interop, which starts Hookline for them")


def pytest_collection_modifyitems(items):
    """test_every_documented_status_was_reached checks the statuses the other API tests reached: it runs last."""
    items.sort(key=lambda item: item.name == "test_every_documented_status_was_reached")


@pytest.fixture
def anyio_backend():
    return "asyncio"


def hookline(*args: str, database_url: str | None = None) -> dict | list:
    """Runs the hookline CLI with --json on the test database (or on `database_url`) and returns its parsed
    output."""
    env = os.environ | ({"DATABASE_URL": database_url} if database_url else {})
    done = subprocess.run([HOOKLINE, *args, "--json"], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, f"hookline {' '.join(args)} failed: {done.stderr}"
    return json.loads(done.stdout)


def sql(query: str, *params) -> list[tuple]:
    """Runs one statement on the test database and returns its rows."""
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as connection:
        cursor = connection.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def token_hash(token: str) -> bytes:
    """What Hookline stores of a token (hookline.access_tokens.token_hash)."""
    return hashlib.sha256(token.encode()).digest()


def mint_token(client: dict, scope: str | None = None, base_url: str = BASE_URL) -> str:
    """A token for `client` from POST /oauth/token (client credentials, HTTP Basic)."""
    form = {"grant_type": "client_credentials"} | ({"scope": scope} if scope else {})
    answer = httpx.post(
        f"{base_url}/oauth/token", data=form, auth=(client["client_id"], client["client_secret"]), timeout=30
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


@asynccontextmanager
async def connect(url: str, token: str | None = None, auth: httpx2.Auth | None = None, mode: str = "auto"):
    """An initialized session of the official MCP client on the server at `url`: a bearer token in the
    Authorization header, an OAuth provider, or neither."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    timeout = httpx2.Timeout(30, read=120)
    try:
        async with httpx2.AsyncClient(headers=headers, auth=auth, timeout=timeout) as http:
            async with Client(streamable_http_client(url, http_client=http), mode=mode, cache=None) as client:
                yield client
    except BaseExceptionGroup as group:
        # The SDK's task groups wrap a failure (an assertion of the test included) in groups: report it bare.
        leaves = [group]
        while len(leaves) == 1 and isinstance(leaves[0], BaseExceptionGroup):
            leaves = list(leaves[0].exceptions)
        if len(leaves) == 1:
            raise leaves[0] from None
        raise


class Receiver:
    """A local HTTP server for http steps: answers a POST with 200 and {"received": <the JSON body>, "n": k}
    (422 under /reject; under /flaky, 422 to the first POST to each path and 200 to later ones), and keeps every
    request it got."""

    def __init__(self):
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                with receiver.lock:
                    first = all(request["path"] != self.path for request in receiver.requests)
                    receiver.requests.append(
                        {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                    )
                    count = len(receiver.requests)
                refused = self.path.startswith("/reject") or (self.path.startswith("/flaky/") and first)
                status = 422 if refused else 200
                answer = json.dumps({"received": body, "n": count}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def received(self, path: str) -> list[dict]:
        with self.lock:
            return [request for request in self.requests if request["path"] == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


# An object with a SKU and an optional quantity; the schema of the echo and relay tools.
ORDER_SCHEMA = {
    "type": "object",
    "required": ["sku"],
    "additionalProperties": False,
    "properties": {
        "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]+$"},
        "quantity": {"type": "integer", "minimum": 1, "maximum": 10},
        "note": {"type": "string"},
    },
}


@dataclass
class Account:
    id: str
    cycles: dict[str, str] = field(default_factory=dict)  # name -> id
    servers: dict[str, str] = field(default_factory=dict)  # name -> URL
    server_ids: dict[str, str] = field(default_factory=dict)  # name -> id
    clients: dict[str, dict] = field(default_factory=dict)  # name -> the created client (with its secret)

    def cycle(self, definition: dict, *, stopped: bool = False) -> str:
        done = subprocess.run(
            [HOOKLINE, "cycles", "create", "--account", self.id, "--file", "-", "--json"],
            input=json.dumps(definition), capture_output=True, text=True, timeout=60,
        )
        assert done.returncode == 0, done.stderr
        cycle_id = json.loads(done.stdout)["id"]
        if stopped:
            hookline("cycles", "stop", cycle_id)
        self.cycles[definition["name"]] = cycle_id
        return cycle_id

    def server(self, name: str, cycles: list[str], auth: str = "bearer") -> str:
        args = ["mcp-servers", "create", "--account", self.id, "--name", name, "--auth", auth]
        for cycle in cycles:
            args += ["--cycle", self.cycles[cycle]]
        created = hookline(*args)
        assert created["url"] == f"/mcp/{created['id']}"
        self.servers[name] = BASE_URL + created["url"]
        self.server_ids[name] = created["id"]
        return self.servers[name]

    def client(self, name: str, *extra: str) -> dict:
        scope = [] if "--console" in extra else ["--account", self.id]
        self.clients[name] = hookline("clients", "create", *scope, "--description", name, *extra)
        return self.clients[name]


@dataclass
class World:
    a: Account
    b: Account
    receiver: Receiver


@pytest.fixture(scope="session")
def world(receiver) -> World:
    """Account A with six cycles behind a bearer server (and echo behind an `auth none` server); account B
    with an echo cycle of its own behind its own bearer server; OAuth clients of every kind."""
    a = Account(hookline("accounts", "create", "--name", "Interop A")["id"])
    b = Account(hookline("accounts", "create", "--name", "Interop B")["id"])
    # Maps its input (map); the output names the job, so calls can be told apart.
    echo = {
        "name": "echo",
        "description": "Shapes an order.",
        "input_schema": ORDER_SCHEMA,
        "steps": [
            {"id": "shape", "type": "map", "fields": {"item": "/sku", "count": "/quantity", "job": "{{job_id}}"}}
        ],
    }
    a.cycle(echo)
    # Maps its input, then POSTs the mapped object to the receiver (http step): the tool answers the POST's
    # outcome.
    a.cycle({
        "name": "relay",
        "description": "Shapes an order and sends it to the receiver.",
        "input_schema": ORDER_SCHEMA,
        "steps": [
            {"id": "shape", "type": "map",
             "fields": {"item": "/sku", "qty": "/quantity", "label": "{{payload.sku}} x{{payload.quantity}}"}},
            {"id": "send", "type": "http", "method": "POST", "url": f"{receiver.url}/orders",
             "body_from": "shape", "timeout_seconds": 10},
        ],
    })
    # An http step the receiver refuses with 422: a permanent failure, so the job ends dead at once.
    a.cycle({
        "name": "reject",
        "input_schema": {"type": "object", "properties": {"tag": {"type": "string"}}},
        "steps": [{"id": "send", "type": "http", "method": "POST", "url": f"{receiver.url}/reject/{{{{payload.tag}}}}",
                   "timeout_seconds": 10}],
    })
    # Stopped: its calls wait as held jobs (for cancel_job and retry_job).
    a.cycle({"name": "parked", "steps": [{"id": "shape", "type": "map", "fields": {"n": "/n"}}]}, stopped=True)
    # Map only, for the paging test and the load test (nothing else calls them).
    a.cycle({"name": "pager", "steps": [{"id": "shape", "type": "map", "fields": {"n": "/n", "job": "{{job_id}}"}}]})
    a.cycle({
        "name": "tally",
        "input_schema": {"type": "object", "required": ["session", "call"],
                         "properties": {"session": {"type": "integer"}, "call": {"type": "integer"}}},
        "steps": [{"id": "shape", "type": "map",
                   "fields": {"session": "/session", "call": "/call", "tag": "s{{payload.session}}c{{payload.call}}"}}],
    })
    a.server("main", ["echo", "relay", "reject", "parked", "pager", "tally"])
    a.server("open", ["echo"], auth="none")
    b.cycle(echo)
    b.server("main", ["echo"])
    a.client("mcp", "--scope", "mcp")
    a.client("webhook", "--scope", "webhook")
    a.client("console", "--console")
    b.client("mcp", "--scope", "mcp")
    return World(a=a, b=b, receiver=receiver)


@pytest.fixture(scope="session")
def a_token(world) -> str:
    return mint_token(world.a.clients["mcp"])


@pytest.fixture(scope="session")
def b_token(world) -> str:
    return mint_token(world.b.clients["mcp"])


def structured(result) -> dict:
    """The structured content of a successful tool result, which its text content repeats as JSON."""
    assert not result.is_error, result.content
    assert result.structured_content is not None, result.content
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content


def pending(result) -> dict:
    """The structured content of a cycle call whose job had not finished: its id and state (for get_job later),
    which its text content repeats as JSON."""
    assert not result.is_error, result.content
    output = result.structured_content
    assert output is not None and output.keys() == {"job_id", "state"}, output
    assert json.loads(result.content[0].text) == output
    return output


def error_text(result) -> str:
    """The text of an isError tool result."""
    assert result.is_error, result.structured_content
    return " ".join(part.text for part in result.content if part.type == "text")
