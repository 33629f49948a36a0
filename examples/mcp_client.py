"""Calls a Hookline MCP server with the official Python MCP SDK, given only its URL, a client ID and a secret.

    python3 -m venv /tmp/mcp && /tmp/mcp/bin/pip install mcp
    /tmp/mcp/bin/python examples/mcp_client.py http://127.0.0.1:8080 SERVER_ID CLIENT_ID CLIENT_SECRET

The SDK's client-credentials provider finds the token endpoint on its own: the server's 401 names its
protected-resource metadata (RFC 9728), which names Hookline as the authorization server (RFC 8414).
"""

import asyncio
import sys

import httpx2
from mcp import ClientSession
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.streamable_http import streamable_http_client


class MemoryStorage:
    """Where the SDK keeps the token it gets (for this run only)."""

    tokens = info = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.info

    async def set_client_info(self, info):
        self.info = info


async def main(base, server, client_id, client_secret):
    url = f"{base}/mcp/{server}"
    auth = ClientCredentialsOAuthProvider(
        server_url=url, storage=MemoryStorage(), client_id=client_id, client_secret=client_secret, issuer=base
    )
    async with httpx2.AsyncClient(auth=auth) as http, streamable_http_client(url, http_client=http) as streams:
        async with ClientSession(streams[0], streams[1]) as session:
            init = await session.initialize()
            print("protocol", init.protocol_version, "server", init.server_info.name)
            print("tools", [tool.name for tool in (await session.list_tools()).tools])
            result = await session.call_tool("orders", {"type": "order.created", "data": {"sku": "TEE-M", "quantity": 2}})
            print("result", "error" if result.is_error else "ok", result.structured_content)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
