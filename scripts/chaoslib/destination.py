"""The http steps' destination: records every call with its Idempotency-Key, and misbehaves on demand
(answers 5xx, answers too late, or is not there at all)."""
import asyncio
import collections
import json

from . import http


class Destination:
    """`mode` is "ok", "error" (503 to every call), "slow" (answers after `slow_seconds`, past the steps'
    timeout) or "down" (the port is closed). A call to a path under /refuse gets 422: a permanent failure."""

    def __init__(self, port, slow_seconds=8, host="127.0.0.1"):
        self.host = host
        self.port = port
        self.slow_seconds = slow_seconds
        self.mode = "ok"
        self.server = None
        self.calls = collections.Counter()  # Idempotency-Key -> calls answered 2xx or not
        self.keyless = 0
        self.answered_ok = collections.Counter()  # Idempotency-Key -> 2xx answers
        self.open = set()  # the writers of open connections, closed when the destination goes down

    async def start(self):
        self.server = await asyncio.start_server(self._connection, self.host, self.port, backlog=1024)

    async def stop(self):
        if self.server:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    async def set_mode(self, mode):
        if mode == "down":
            # Down means unreachable: no listener, and the kept-alive connections that clients pool are cut
            # too (closing the listener alone leaves them served).
            await self.stop()
            for writer in list(self.open):
                writer.transport.abort()
        elif self.server is None:
            await self.start()
        self.mode = mode

    async def _connection(self, reader, writer):
        self.open.add(writer)
        try:
            while True:
                try:
                    start, headers, _ = await http.read_message(reader)
                except (EOFError, asyncio.IncompleteReadError, ConnectionError):
                    return
                key = headers.get("idempotency-key")
                if key is None:
                    self.keyless += 1
                else:
                    self.calls[key] += 1
                path = start.split(" ")[1] if " " in start else "/"
                if self.mode == "down":
                    writer.transport.abort()
                    return
                if self.mode == "slow":
                    await asyncio.sleep(self.slow_seconds)
                if self.mode == "error":
                    status = 503
                elif path.startswith("/refuse"):
                    status = 422
                else:
                    status = 200
                    if key is not None:
                        self.answered_ok[key] += 1
                writer.write(http.response_bytes(status, json.dumps({"ok": status == 200}).encode()))
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.open.discard(writer)
            await http.close(writer)
