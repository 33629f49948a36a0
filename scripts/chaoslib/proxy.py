"""A TCP proxy in front of the `hookline serve` instances: each client connection goes to the next instance
in turn, and to the one after if that one refuses the connection (nothing has been sent yet, so that is safe);
a connection whose instance dies is dropped, as a real load balancer's would be. No HTTP retries."""
import asyncio
import itertools


class Proxy:
    def __init__(self, port, backends):
        self.port = port
        self.backends = backends  # [(host, port)]
        self.turn = itertools.count()
        self.server = None

    async def start(self):
        self.server = await asyncio.start_server(self._connection, "127.0.0.1", self.port, backlog=4096)

    async def stop(self):
        if self.server:
            self.server.close()
            await self.server.wait_closed()

    async def _connect(self):
        first = next(self.turn)
        for offset in range(len(self.backends)):
            host, port = self.backends[(first + offset) % len(self.backends)]
            try:
                return await asyncio.wait_for(asyncio.open_connection(host, port), 2)
            except (OSError, asyncio.TimeoutError):
                continue
        return None

    async def _connection(self, client_reader, client_writer):
        upstream = await self._connect()
        if upstream is None:
            client_writer.close()
            return
        upstream_reader, upstream_writer = upstream

        async def pipe(reader, writer):
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                try:
                    writer.close()
                except Exception:
                    pass

        await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))
