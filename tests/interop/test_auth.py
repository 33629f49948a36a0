"""Who may call a bearer MCP server, with raw HTTP: every wrong kind of token gets 401 and the RFC 9728
challenge; the discovery documents; account isolation; browser origins."""

import re
import subprocess
import time

import httpx
import pytest

from conftest import BASE_URL, HOOKLINE, connect, error_text, mint_token, sql, structured, token_hash

INITIALIZE = {
    "jsonrpc": "2.0", "id": 1, "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {},
               "clientInfo": {"name": "interop-raw", "version": "1"}},
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def initialize(url: str, token: str | None = None, **headers) -> httpx.Response:
    """POSTs an initialize request, as the first request of a session."""
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    with httpx.Client(timeout=30) as http:
        response = http.post(url, json=INITIALIZE, headers=MCP_HEADERS | headers)
        session = response.headers.get("mcp-session-id")
        if session:  # end the session it opened
            http.delete(url, headers=MCP_HEADERS | {"Mcp-Session-Id": session} | headers)
        return response


def challenge(response: httpx.Response) -> dict[str, str]:
    """The parameters of a `WWW-Authenticate: Bearer …` challenge."""
    header = response.headers.get("www-authenticate", "")
    assert header.startswith("Bearer "), header
    return dict(re.findall(r'(\w+)="([^"]*)"', header))


def metadata_url(server_id: str) -> str:
    return f"{BASE_URL}/.well-known/oauth-protected-resource/mcp/{server_id}"


def assert_refused(response: httpx.Response, server_id: str, token_came: bool):
    assert response.status_code == 401, response.text
    params = challenge(response)
    assert params["realm"] == "hookline"
    assert params["resource_metadata"] == metadata_url(server_id)
    if token_came:
        assert params.get("error") == "invalid_token", params
        assert response.json()["error"] == "invalid_token"
    else:
        assert "error" not in params, params
    assert "mcp-session-id" not in response.headers


def test_a_live_mcp_token_of_the_account_is_admitted(world, a_token):
    response = initialize(world.a.servers["main"], a_token)
    assert response.status_code == 200, response.text
    assert response.headers.get("mcp-session-id")
    assert "www-authenticate" not in response.headers


def test_no_token(world):
    assert_refused(initialize(world.a.servers["main"]), world.a.server_ids["main"], token_came=False)
    # Another scheme is no bearer token either: a bare challenge (RFC 6750 §3.1).
    with httpx.Client(timeout=30) as http:
        basic = http.post(world.a.servers["main"], json=INITIALIZE,
                          headers=MCP_HEADERS | {"Authorization": "Basic aGxjOnNlY3JldA=="})
    assert_refused(basic, world.a.server_ids["main"], token_came=False)


@pytest.mark.parametrize("header", ["Bearer", "Bearer hlt_not-a-real-token", "Bearer " + "x" * 43])
def test_a_malformed_or_unknown_token(world, header):
    with httpx.Client(timeout=30) as http:
        response = http.post(world.a.servers["main"], json=INITIALIZE, headers=MCP_HEADERS | {"Authorization": header})
    assert_refused(response, world.a.server_ids["main"], token_came=True)


def test_a_webhook_token_of_the_same_account(world):
    token = mint_token(world.a.clients["webhook"])
    assert_refused(initialize(world.a.servers["main"], token), world.a.server_ids["main"], token_came=True)


def test_a_console_token(world):
    token = mint_token(world.a.clients["console"])
    assert_refused(initialize(world.a.servers["main"], token), world.a.server_ids["main"], token_came=True)


def test_an_mcp_token_of_another_account(world, a_token, b_token):
    # Each way round: B's token on A's server, A's token on B's server.
    assert_refused(initialize(world.a.servers["main"], b_token), world.a.server_ids["main"], token_came=True)
    assert_refused(initialize(world.b.servers["main"], a_token), world.b.server_ids["main"], token_came=True)
    assert initialize(world.b.servers["main"], b_token).status_code == 200


def test_an_expired_token(world):
    token = mint_token(world.a.clients["mcp"])
    # Expired an hour ago (before its first use: an instance keeps a token's record once it has read it).
    updated = sql(
        "UPDATE hookline.access_tokens SET issued_at = now() - interval '2 hours',"
        " expires_at = now() - interval '1 hour' WHERE token_hash = %s RETURNING scope",
        token_hash(token),
    )
    assert updated == [("mcp",)]
    response = initialize(world.a.servers["main"], token)
    assert_refused(response, world.a.server_ids["main"], token_came=True)
    assert "expired" in challenge(response).get("error_description", "")


def test_a_revoked_client_token(world):
    client = world.a.client("revoked", "--scope", "mcp")
    token = mint_token(client)
    assert initialize(world.a.servers["main"], token).status_code == 200
    done = subprocess.run([HOOKLINE, "clients", "revoke", client["client_id"]], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # Revocation reaches the instance through NOTIFY, within a second; allow a few.
    deadline = time.monotonic() + 5
    while (response := initialize(world.a.servers["main"], token)).status_code == 200:
        assert time.monotonic() < deadline, "the revoked token still works"
        time.sleep(0.1)
    assert_refused(response, world.a.server_ids["main"], token_came=True)


def test_a_token_revoked_at_the_revocation_endpoint(world):
    client = world.a.clients["mcp"]
    token = mint_token(client)
    assert initialize(world.a.servers["main"], token).status_code == 200
    revoked = httpx.post(f"{BASE_URL}/oauth/revoke", data={"token": token},
                         auth=(client["client_id"], client["client_secret"]), timeout=30)
    assert revoked.status_code == 200
    deadline = time.monotonic() + 5
    while (response := initialize(world.a.servers["main"], token)).status_code == 200:
        assert time.monotonic() < deadline, "the revoked token still works"
        time.sleep(0.1)
    assert_refused(response, world.a.server_ids["main"], token_came=True)


def test_the_discovery_documents(world):
    server_id = world.a.server_ids["main"]
    resource = httpx.get(metadata_url(server_id), timeout=30)
    assert resource.status_code == 200
    document = resource.json()
    assert document["resource"] == world.a.servers["main"]
    assert document["authorization_servers"] == [BASE_URL]
    assert document["scopes_supported"] == ["mcp"]
    assert document["bearer_methods_supported"] == ["header"]
    server = httpx.get(f"{BASE_URL}/.well-known/oauth-authorization-server", timeout=30)
    assert server.status_code == 200
    metadata = server.json()
    assert metadata["issuer"] == BASE_URL
    assert metadata["token_endpoint"] == f"{BASE_URL}/oauth/token"
    assert "client_credentials" in metadata["grant_types_supported"]
    assert {"client_secret_basic", "client_secret_post"} <= set(metadata["token_endpoint_auth_methods_supported"])
    # The MCP SDKs' metadata models require an authorization endpoint (RFC 8414 would let it be left out):
    # there is one, and it issues nothing.
    authorize = httpx.get(metadata["authorization_endpoint"], params={"response_type": "code"}, timeout=30)
    assert authorize.status_code == 400 and authorize.json()["error"] == "unsupported_response_type"
    # An unknown server has no metadata and no endpoint.
    unknown = "00000000-0000-4000-8000-000000000000"
    assert httpx.get(metadata_url(unknown), timeout=30).status_code == 404
    assert initialize(f"{BASE_URL}/mcp/{unknown}").status_code == 404


def test_the_token_endpoint_issues_mcp_tokens_for_the_scope_asked(world):
    client = world.a.clients["mcp"]
    answer = httpx.post(f"{BASE_URL}/oauth/token", timeout=30,
                        data={"grant_type": "client_credentials", "scope": "mcp",
                              "client_id": client["client_id"], "client_secret": client["client_secret"]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["scope"] == "mcp" and answer.json()["token_type"].lower() == "bearer"
    refused = httpx.post(f"{BASE_URL}/oauth/token", data={"grant_type": "client_credentials", "scope": "webhook"},
                         auth=(client["client_id"], client["client_secret"]), timeout=30)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope"


def test_a_browser_origin_is_refused(world, a_token):
    evil = {"Origin": "https://evil.example"}
    response = initialize(world.a.servers["main"], a_token, **evil)
    assert response.status_code == 403, response.text
    assert "mcp-session-id" not in response.headers
    assert initialize(world.a.servers["open"], **evil).status_code == 403
    # Without the Origin header the same requests are served.
    assert initialize(world.a.servers["open"]).status_code == 200
    # Nor does an open session take a request with a browser's Origin.
    url = world.a.servers["main"]
    with httpx.Client(timeout=30, headers=MCP_HEADERS | {"Authorization": f"Bearer {a_token}"}) as http:
        opened = http.post(url, json=INITIALIZE)
        assert opened.status_code == 200
        session = {"Mcp-Session-Id": opened.headers["mcp-session-id"], "MCP-Protocol-Version": "2025-06-18"}
        initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        assert http.post(url, json=initialized, headers=session).status_code == 202
        listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
        assert http.post(url, json=listing, headers=session | evil).status_code == 403
        listed = http.post(url, json=listing, headers=session)
        assert listed.status_code == 200 and '"get_job"' in listed.text
        assert http.delete(url, headers=session).status_code == 200


@pytest.mark.anyio
async def test_account_a_never_reaches_account_b(world, a_token, b_token):
    async with connect(world.b.servers["main"], token=b_token) as b:
        b_job = int(structured(await b.call_tool("echo", {"sku": "BBB-1", "quantity": 1}))["job"])
        b_held = structured(await b.call_tool("queue_stats", {}))
    async with connect(world.a.servers["main"], token=a_token) as a:
        a_job = int(structured(await a.call_tool("echo", {"sku": "AAA-1", "quantity": 1}))["job"])
        assert f"no job {b_job}" in error_text(await a.call_tool("get_job", {"job_id": b_job}))
        assert error_text(await a.call_tool("retry_job", {"job_id": b_job}))
        assert error_text(await a.call_tool("cancel_job", {"job_id": b_job}))
        ids = set()
        cursor = None
        while True:
            page = structured(await a.call_tool("list_jobs", {"limit": 100} | ({"cursor": cursor} if cursor else {})))
            ids |= {job["id"] for job in page["jobs"]}
            assert all(job["account_id"] == world.a.id for job in page["jobs"])
            if not (cursor := page.get("next_cursor")):
                break
            assert len(ids) < 100_000, "list_jobs never stopped paging"
        assert a_job in ids and b_job not in ids
    async with connect(world.b.servers["main"], token=b_token) as b:
        job = structured(await b.call_tool("get_job", {"job_id": b_job}))
        assert job["state"] == "completed" and job["account_id"] == world.b.id
        assert structured(await b.call_tool("queue_stats", {})) == b_held
        # B's server offers only B's cycle; A's tools are unknown there.
        assert {tool.name for tool in (await b.list_tools()).tools} == {"echo", "get_job", "list_jobs",
                                                                          "queue_stats", "retry_job", "cancel_job"}
