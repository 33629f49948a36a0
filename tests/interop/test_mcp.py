"""Hookline's MCP servers through the official Python MCP client SDK: OAuth discovery, tools, cycle calls,
schema checks, the job tools, idempotency, and a server without authentication."""

import time

import anyio
import pytest
from mcp.client.auth import TokenStorage
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from mcp.shared.exceptions import MCPError

from conftest import BASE_URL, JOB_STATES, JOB_TOOLS, connect, error_text, pending, sql, structured

pytestmark = pytest.mark.anyio

CYCLE_TOOLS = {"echo", "relay", "reject", "parked", "pager", "tally"}
INVALID_PARAMS = -32602


class MemoryStorage(TokenStorage):
    """Token storage kept in memory, as a short-lived client would."""

    def __init__(self):
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info):
        self.client_info = client_info


def assert_tools(listed, cycles: set[str]):
    names = [tool.name for tool in listed.tools]
    assert len(names) == len(set(names)), names
    assert set(names) == cycles | JOB_TOOLS
    echo = next(tool for tool in listed.tools if tool.name == "echo")
    assert echo.description == "Shapes an order."
    schema = echo.input_schema
    assert schema["type"] == "object" and schema["required"] == ["sku"]
    assert schema["properties"]["sku"]["pattern"] == "^[A-Z]{3}-[0-9]+$"
    # The two arguments every cycle tool takes besides its own.
    assert {"idempotency_key", "wait_seconds"} <= set(schema["properties"])


async def relay_and_check(client, world, note: str):
    """Calls relay (map, then POST to the receiver) and checks the answer and what the receiver got."""
    before = len(world.receiver.received("/orders"))
    result = await client.call_tool("relay", {"sku": "TEE-12", "quantity": 3, "note": note})
    output = structured(result)
    mapped = {"item": "TEE-12", "qty": 3, "label": "TEE-12 x3"}
    # The last step's output: the receiver's answer to the POST of the mapped object.
    assert output["status"] == 200
    assert output["body"]["received"] == mapped
    got = world.receiver.received("/orders")
    assert len(got) == before + 1
    assert got[-1]["body"] == mapped
    assert got[-1]["headers"]["content-type"].startswith("application/json")
    assert got[-1]["headers"]["idempotency-key"].endswith("-send")


async def test_client_credentials_provider_discovers_the_token_endpoint(world):
    """Given only the URL, a client ID and a secret: 401 → resource_metadata → authorization-server metadata →
    POST /oauth/token → the call goes through."""
    url = world.a.servers["main"]
    credentials = world.a.clients["mcp"]
    storage = MemoryStorage()
    provider = ClientCredentialsOAuthProvider(
        server_url=url, storage=storage, client_id=credentials["client_id"],
        client_secret=credentials["client_secret"], issuer=BASE_URL,
    )
    async with connect(url, auth=provider) as client:
        assert client.server_info.name == "hookline"
        assert_tools(await client.list_tools(), CYCLE_TOOLS)
        await relay_and_check(client, world, "through the OAuth provider")
    assert storage.tokens is not None and storage.tokens.access_token.startswith("hlt_")
    assert storage.tokens.scope == "mcp"


async def test_bearer_token_in_the_authorization_header(world, a_token):
    async with connect(world.a.servers["main"], token=a_token) as client:
        assert client.server_info.name == "hookline"
        assert client.server_capabilities.tools is not None
        assert_tools(await client.list_tools(), CYCLE_TOOLS)
        await relay_and_check(client, world, "with a header token")


async def test_the_legacy_handshake_works_too(world, a_token):
    """mode="legacy" skips the server/discover probe and goes straight to initialize."""
    async with connect(world.a.servers["main"], token=a_token, mode="legacy") as client:
        output = structured(await client.call_tool("echo", {"sku": "LEG-1", "quantity": 1}))
        assert output["item"] == "LEG-1" and output["count"] == 1


async def test_arguments_that_break_the_input_schema_are_refused(world, a_token):
    cycle = world.a.cycles["echo"]
    count = ("SELECT (SELECT count(*) FROM hookline.jobs WHERE cycle_id = %s)"
             " + (SELECT count(*) FROM hookline.job_history WHERE cycle_id = %s)")
    jobs_before = sql(count, cycle, cycle)[0][0]
    async with connect(world.a.servers["main"], token=a_token) as client:
        text = error_text(await client.call_tool("echo", {"sku": "abc", "quantity": 20}))
        assert "/quantity" in text and "at most 10" in text
        assert "/sku" in text and "pattern" in text
        text = error_text(await client.call_tool("echo", {"quantity": 2}))
        assert "sku" in text and "required" in text
        text = error_text(await client.call_tool("echo", {"sku": "ABC-1", "colour": "red"}))
        assert "colour" in text
        text = error_text(await client.call_tool("echo", {"sku": "ABC-1", "idempotency_key": ""}))
        assert "idempotency_key" in text
        text = error_text(await client.call_tool("echo", {"sku": "ABC-1", "wait_seconds": 600}))
        assert "wait_seconds" in text
    # Nothing was enqueued.
    assert sql(count, cycle, cycle)[0][0] == jobs_before


async def test_an_unknown_tool_is_a_json_rpc_error(world, a_token):
    async with connect(world.a.servers["main"], token=a_token) as client:
        with pytest.raises(MCPError) as raised:
            await client.call_tool("no_such_tool", {})
        assert raised.value.error.code == INVALID_PARAMS
        assert "no_such_tool" in raised.value.error.message
        # The session is still usable.
        assert structured(await client.call_tool("queue_stats", {})).keys() == JOB_STATES


async def test_get_job_shows_a_job_of_the_account(world, a_token):
    async with connect(world.a.servers["main"], token=a_token) as client:
        output = structured(await client.call_tool("echo", {"sku": "GET-7", "quantity": 7}))
        job_id = int(output["job"])
        job = structured(await client.call_tool("get_job", {"job_id": job_id}))
        assert job["id"] == job_id
        assert job["state"] == "completed" and job["outcome"] == "succeeded"
        assert job["account_id"] == world.a.id and job["cycle_id"] == world.a.cycles["echo"]
        assert job["webhook_id"] == world.a.server_ids["main"]
        assert job["step_outputs"]["shape"]["item"] == "GET-7"
        text = error_text(await client.call_tool("get_job", {"job_id": 999_999_999}))
        assert "no job" in text


async def test_list_jobs_pages_with_next_cursor(world, a_token):
    async with connect(world.a.servers["main"], token=a_token) as client:
        made = [int(structured(await client.call_tool("pager", {"n": n}))["job"]) for n in range(5)]
        seen, cursor, pages = [], None, 0
        while True:
            arguments = {"cycle": "pager", "limit": 2} | ({"cursor": cursor} if cursor else {})
            page = structured(await client.call_tool("list_jobs", arguments))
            pages += 1
            assert len(page["jobs"]) <= 2
            assert all(job["cycle_id"] == world.a.cycles["pager"] for job in page["jobs"])
            seen += [job["id"] for job in page["jobs"]]
            cursor = page.get("next_cursor")
            if cursor is None:
                break
            assert pages < 10, "list_jobs never stopped paging"
        assert seen == sorted(made, reverse=True), "newest first, each job once"
        assert pages == 3
        completed = structured(await client.call_tool("list_jobs", {"cycle": "pager", "state": "completed"}))
        assert {job["id"] for job in completed["jobs"]} == set(made)
        assert error_text(await client.call_tool("list_jobs", {"cycle": "nope"}))
        assert error_text(await client.call_tool("list_jobs", {"limit": 1000}))


async def wait_for(condition, seconds: float = 15):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await anyio.sleep(0.1)


async def test_cancel_job_retry_job_and_queue_stats(world, a_token):
    async with connect(world.a.servers["main"], token=a_token) as client:
        stats_before = structured(await client.call_tool("queue_stats", {}))
        assert stats_before.keys() == JOB_STATES
        # The cycle is stopped: the call's job waits, held, and the call answers before it runs.
        waiting = pending(await client.call_tool("parked", {"n": 1, "wait_seconds": 0}))
        job_id = waiting["job_id"]
        assert waiting["state"] == "held"
        stats = structured(await client.call_tool("queue_stats", {}))
        assert stats["held"] == stats_before["held"] + 1
        assert structured(await client.call_tool("cancel_job", {"job_id": job_id})) == {"cancelled": job_id}
        assert structured(await client.call_tool("get_job", {"job_id": job_id}))["state"] == "cancelled"
        stats = structured(await client.call_tool("queue_stats", {}))
        assert stats["held"] == stats_before["held"]
        assert stats["cancelled"] == stats_before["cancelled"] + 1
        # A finished job cannot be cancelled.
        assert "only available or held jobs can be cancelled" in error_text(
            await client.call_tool("cancel_job", {"job_id": job_id}))
        # A cancelled job can be retried: back in the queue, where it waits, held, since its cycle is still
        # stopped (as a new call's job does), rather than running.
        assert structured(await client.call_tool("retry_job", {"job_id": job_id})) == {"retried": [job_id]}
        await anyio.sleep(1)  # the workers poll every 200 ms
        job = structured(await client.call_tool("get_job", {"job_id": job_id}))
        assert job["state"] == "held", f"a retried job of a stopped cycle is {job['state']}: {job['step_runs']}"
        assert structured(await client.call_tool("cancel_job", {"job_id": job_id})) == {"cancelled": job_id}

        # A permanent failure (422) ends the job dead; the call is an error result naming the job.
        failed = await client.call_tool("reject", {"tag": "once"})
        assert failed.is_error
        job_id = failed.structured_content["job_id"]
        assert failed.structured_content["state"] == "dead"
        assert "422" in error_text(failed)
        assert len(world.receiver.received("/reject/once")) == 1
        assert structured(await client.call_tool("retry_job", {"job_id": job_id})) == {"retried": [job_id]}
        # It ran again (the same Idempotency-Key), and died again.
        await wait_for(lambda: len(world.receiver.received("/reject/once")) == 2)
        keys = {request["headers"]["idempotency-key"] for request in world.receiver.received("/reject/once")}
        assert keys == {f"{job_id}-send"}
        for _ in range(150):
            if structured(await client.call_tool("get_job", {"job_id": job_id}))["state"] == "dead":
                break
            await anyio.sleep(0.1)
        else:
            pytest.fail("the retried job did not end dead again")
        # Only dead and cancelled jobs can be retried.
        done = int(structured(await client.call_tool("echo", {"sku": "RET-1"}))["job"])
        assert error_text(await client.call_tool("retry_job", {"job_id": done}))


async def test_a_repeated_idempotency_key_returns_the_same_job(world, a_token):
    async with connect(world.a.servers["main"], token=a_token) as client:
        first = structured(await client.call_tool("echo", {"sku": "IDE-1", "idempotency_key": "order-1"}))
        again = structured(await client.call_tool("echo", {"sku": "IDE-1", "idempotency_key": "order-1"}))
        assert again == first
        other = structured(await client.call_tool("echo", {"sku": "IDE-1", "idempotency_key": "order-2"}))
        assert other["job"] != first["job"]
        newest = structured(await client.call_tool("list_jobs", {"cycle": "echo", "limit": 2}))["jobs"]
        assert [job["id"] for job in newest] == [int(other["job"]), int(first["job"])]
        # A held job, repeated before it ran: the same job id.
        one = pending(await client.call_tool("parked", {"n": 2, "idempotency_key": "p", "wait_seconds": 0}))
        two = pending(await client.call_tool("parked", {"n": 2, "idempotency_key": "p", "wait_seconds": 0}))
        assert one["job_id"] == two["job_id"] and two["state"] == "held"
        assert structured(await client.call_tool("cancel_job", {"job_id": one["job_id"]}))
    # The same key on another session (another connection) still finds the first job.
    async with connect(world.a.servers["main"], token=a_token) as client:
        assert structured(await client.call_tool("echo", {"sku": "IDE-1", "idempotency_key": "order-1"})) == first
    rows = sql("SELECT count(*) FROM hookline.job_history WHERE id = %s OR idempotency_key LIKE %s",
               int(first["job"]), "%:order-1")
    assert rows[0][0] == 1


async def test_a_server_without_authentication_needs_no_token(world):
    async with connect(world.a.servers["open"]) as client:
        listed = await client.list_tools()
        assert {tool.name for tool in listed.tools} == {"echo"} | JOB_TOOLS
        output = structured(await client.call_tool("echo", {"sku": "OPN-2", "quantity": 2}))
        assert output["item"] == "OPN-2" and output["count"] == 2
        job = structured(await client.call_tool("get_job", {"job_id": int(output["job"])}))
        assert job["account_id"] == world.a.id and job["webhook_id"] == world.a.server_ids["open"]
