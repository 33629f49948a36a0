"""The load: deliveries offered at a fixed rate by a client that behaves like a real webhook provider. On a
503, a 429, a timeout or a dropped connection it sends the same delivery again, with the same idempotency key
(and, for signed webhooks, the same delivery id under a fresh signature), after a backoff; it gives up on a
delivery only after `give_up_seconds`."""
import asyncio
import base64
import hashlib
import hmac
import json
import random
import time

from . import http


class Target:
    """One webhook to deliver to: its path, its scheme and what the scheme needs."""

    def __init__(self, account, path, scheme, token=None, secret=None):
        self.account, self.path, self.scheme, self.token, self.secret = account, path, scheme, token, secret

    def headers(self, delivery_id, body):
        headers = {"Host": "chaos", "Content-Type": "application/json"}
        if self.scheme == "standard-webhooks":
            timestamp = str(int(time.time()))
            key = base64.b64decode(self.secret.removeprefix("whsec_"))
            mac = hmac.new(key, f"{delivery_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
            headers.update({"webhook-id": delivery_id, "webhook-timestamp": timestamp,
                            "webhook-signature": "v1," + base64.b64encode(mac).decode()})
        else:
            headers["Idempotency-Key"] = delivery_id
            if self.scheme == "bearer":
                headers["Authorization"] = f"Bearer {self.token}"
        return headers


class Provider:
    def __init__(self, port, targets, count, rate, connections=48, refuse_every=100, give_up_seconds=600,
                 host="127.0.0.1"):
        self.host = host
        self.port = port
        self.targets = targets
        self.count = count
        self.rate = rate
        self.connections = connections
        self.refuse_every = refuse_every
        self.give_up_seconds = give_up_seconds
        self.queue = asyncio.Queue()
        self.acked = {}  # delivery id -> job id
        self.conflicting = 0  # deliveries answered with two different job ids
        self.refused = {}  # delivery id -> status (a 4xx other than 429: not retried)
        self.given_up = 0
        self.malformed = 0  # 2xx answers without a job id
        self.sends = 0
        self.ack_times = []  # monotonic times of 2xx answers
        self.outstanding = 0
        self.done = asyncio.Event()

    def refuses(self, n):
        """Whether delivery `n` is one the destination refuses for good (one in `refuse_every`)."""
        return bool(self.refuse_every) and n % self.refuse_every == self.refuse_every - 1

    def route(self, delivery_id):
        return "refuse" if self.refuses(int(delivery_id.rsplit("-", 1)[1])) else "accept"

    def delivery(self, n):
        target = self.targets[n % len(self.targets)]
        refuse = self.refuses(n)
        body = json.dumps({"n": n, "account": target.account, "route": "refuse" if refuse else "accept"}).encode()
        return {"n": n, "id": f"chaos-{n}", "target": target, "body": body, "first": None, "tries": 0}

    async def run(self):
        self.outstanding = self.count
        senders = [asyncio.create_task(self._sender()) for _ in range(self.connections)]
        start = time.monotonic()
        for n in range(self.count):
            delay = start + n / self.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            item = self.delivery(n)
            item["first"] = time.monotonic()
            self.queue.put_nowait(item)
        await self.done.wait()
        for sender in senders:
            sender.cancel()
        await asyncio.gather(*senders, return_exceptions=True)

    def _finish(self):
        self.outstanding -= 1
        if self.outstanding == 0:
            self.done.set()

    def _again(self, item):
        if time.monotonic() - item["first"] > self.give_up_seconds:
            self.given_up += 1
            self._finish()
            return
        backoff = min(5.0, 0.1 * 2 ** min(item["tries"], 6)) * random.uniform(0.5, 1.0)
        asyncio.get_running_loop().call_later(backoff, self.queue.put_nowait, item)

    async def _sender(self):
        connection = None
        while True:
            item = await self.queue.get()
            item["tries"] += 1
            self.sends += 1
            target = item["target"]
            try:
                if connection is None:
                    connection = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), 5)
                reader, writer = connection
                writer.write(http.request_bytes("POST", target.path, target.headers(item["id"], item["body"]),
                                                item["body"]))
                status_line, headers, body = await asyncio.wait_for(http.read_message(reader), 10)
                status = int(status_line.split(" ")[1])
                if headers.get("connection", "").lower() == "close":
                    await http.close(writer)
                    connection = None
            except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
                    ValueError, IndexError):
                if connection is not None:
                    await http.close(connection[1])
                connection = None
                self._again(item)
                continue
            if 200 <= status < 300:
                try:
                    job = int(json.loads(body)["job_id"])
                except (ValueError, KeyError, TypeError):
                    self.malformed += 1
                    self._again(item)
                    continue
                previous = self.acked.setdefault(item["id"], job)
                if previous != job:
                    self.conflicting += 1
                self.ack_times.append(time.monotonic())
                self._finish()
            elif status in (429, 503) or status >= 500:
                self._again(item)
            else:
                self.refused[item["id"]] = status
                self._finish()
