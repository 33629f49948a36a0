"""Phase 11, MCP tool calls: an MCP server (auth bearer) offering a cycle of one `map` step, called over MCP's
Streamable HTTP transport with the workers running. First --mcp-sessions sessions, each making back-to-back
`tools/call`s, for throughput and latency under load; then one session making them one after the other, for
the latency of a single call (the target: p50 <= 10 ms).

A call's path: the bearer token checked, the arguments enqueued as a job (the ingress's group commit), a
worker claiming and running it, the server's JobWaiter finding it in job_history (it polls every 2 ms), and
the answer written as an SSE event. Every answer is checked (isError false, structuredContent what the map
step makes of the call's own arguments); whatever is not is counted and shown, and does not stop the bench.

The load client is Python's standard library: each session is a thread with its own keep-alive HTTP/1.1
connection (a socket; see Connection), the threads spread over one process per core (each has its own GIL).
"""
import collections
import json
import math
import multiprocessing
import os
import resource
import socket
import sys
import threading
import time

from .context import note
from .database import psql, reset_queue
from .fixture import access_token, hookline
from .processes import cpu_seconds, machine_cpu_seconds, start, stop, worker_pids

PROTOCOL_VERSION = "2025-11-25"
TOOL = "bench_map"


class SessionGone(Exception):
    """404: the server ended the session (idle, or its --mcp-session-max-bytes used); start another."""


class CallFailed(Exception):
    """A call answered with anything but the expected result; its message is the kind, counted as an error."""


def setup(bench):
    """The account's `map` cycle, an `mcp` client and its token (from /oauth/token), and an MCP server with
    bearer auth offering the cycle; returns the server's id."""
    cycle_file = os.path.join(bench.work_dir, "mcp-cycle.json")
    with open(cycle_file, "w") as f:
        json.dump({"name": TOOL, "description": "Echoes sku and n through one map step.",
                   "steps": [{"id": "shape", "type": "map", "fields": {"sku": "/sku", "n": "/n"}}]}, f)
    cycle = hookline(bench, "cycles", "create", "--account", bench.account, "--file", cycle_file)["id"]
    client = hookline(bench, "clients", "create", "--account", bench.account, "--scope", "mcp")
    server = hookline(bench, "mcp-servers", "create", "--account", bench.account, "--name", "bench",
                      "--auth", "bearer", "--cycle", cycle)["id"]
    token = access_token(bench, client)
    return server, token


class Connection:
    """A keep-alive HTTP/1.1 connection: http.client spent about 1.2 ms of CPU on a call here (its header
    parsing goes through the email package), as much as the server's share of the machine it measures; this
    spends a fraction of that. It reads what hookline sends: Content-Length bodies and chunked event streams."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=90)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def close(self):
        self.sock.close()

    def send(self, method, path, headers, body=b""):
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.sock.sendall(head.encode() + b"\r\n" + body)

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.buffer += data

    def _line(self):
        while (end := self.buffer.find(b"\r\n")) < 0:
            self._fill()
        line, self.buffer = self.buffer[:end], self.buffer[end + 2:]
        return line

    def _exactly(self, size):
        while len(self.buffer) < size:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def head(self):
        """The response's status and headers (names in lower case)."""
        status = int(self._line().split(b" ", 2)[1])
        headers = {}
        while line := self._line():
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers

    def chunks(self, headers):
        """The body, piece by piece as it arrives."""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while size := int(self._line().split(b";")[0], 16):
                yield self._exactly(size)
                self._exactly(2)
            while self._line():  # trailer fields, then the empty line
                pass
        elif length := int(headers.get("content-length", "0")):
            yield self._exactly(length)

    def body(self, headers):
        return b"".join(self.chunks(headers))


class Session:
    """One MCP session over one keep-alive connection: initialize and notifications/initialized, then calls."""

    def __init__(self, port, path, token):
        self.port, self.path = port, path
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                        "Accept": "application/json, text/event-stream"}
        self.connection = Connection(port)
        self.next_id = 0
        self.session_id = None

    def reconnect(self):
        self.connection.close()
        self.connection = Connection(self.port)

    def close(self):
        """Ends the session (DELETE), as a client that is done does, and the connection."""
        if self.session_id:
            try:
                self.connection.send("DELETE", self.path, {
                    "Authorization": self.headers["Authorization"], "Mcp-Session-Id": self.session_id,
                    "MCP-Protocol-Version": self.version})
                self.connection.body(self.connection.head()[1])
            except OSError:
                pass
        self.connection.close()

    def post(self, message):
        headers = self.headers
        if self.session_id:
            headers = {**headers, "Mcp-Session-Id": self.session_id, "MCP-Protocol-Version": self.version}
        self.connection.send("POST", self.path, headers, json.dumps(message, separators=(",", ":")).encode())
        return self.connection.head()

    def request(self, method, params):
        """Sends a JSON-RPC request; returns its response message, read from the SSE stream (which then ends),
        and the perf_counter() when its event arrived."""
        self.next_id += 1
        wanted = self.next_id
        status, headers = self.post({"jsonrpc": "2.0", "id": wanted, "method": method, "params": params})
        if status == 404 and self.session_id:
            self.connection.body(headers)
            raise SessionGone()
        if status != 200 or not headers.get("content-type", "").startswith("text/event-stream"):
            body = self.connection.body(headers)[:200].decode(errors="replace")
            raise CallFailed(f"HTTP {status}: {body}")
        answer, arrived, pending, after = None, None, b"", False
        for chunk in self.connection.chunks(headers):
            if answer is not None:
                after = after or bool(chunk.strip())
                continue
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if line.startswith(b"data:") and answer is None:
                    data = line[5:].strip()
                    if data:  # the priming event's data is empty
                        message = json.loads(data)
                        if message.get("id") == wanted:
                            answer, arrived = message, time.perf_counter()
        if answer is None:
            raise CallFailed("the event stream ended without the answer")
        if after:
            raise CallFailed("the event stream went on after the answer")
        if "error" in answer:
            raise CallFailed(f"JSON-RPC error {answer['error'].get('code')}: {answer['error'].get('message')}")
        return answer["result"], arrived

    def initialize(self):
        self.session_id = None
        status, headers = self.post({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                                     "params": {"protocolVersion": PROTOCOL_VERSION, "capabilities": {},
                                                "clientInfo": {"name": "hookline-bench", "version": "1"}}})
        session_id = headers.get("mcp-session-id")
        body = self.connection.body(headers).decode(errors="replace")
        if status != 200 or not session_id:
            raise CallFailed(f"initialize: HTTP {status}: {body[:200]}")
        result = next(json.loads(line[5:]) for line in body.splitlines()
                      if line.startswith("data:") and line[5:].strip())["result"]
        self.session_id, self.version = session_id, result["protocolVersion"]
        status, headers = self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        self.connection.body(headers)
        if status != 202:
            raise CallFailed(f"notifications/initialized: HTTP {status}")

    def call(self, n):
        """One tools/call, checked; returns its latency in ms. Raises SessionGone or CallFailed."""
        sku = f"SKU-{n}"
        began = time.perf_counter()
        result, arrived = self.request("tools/call", {"name": TOOL, "arguments": {"sku": sku, "n": n}})
        elapsed = (arrived - began) * 1000
        if result.get("isError") is not False:
            text = " ".join(part.get("text", "") for part in result.get("content", []))
            raise CallFailed(f"isError: {text[:120]}")
        if result.get("structuredContent") != {"sku": sku, "n": n}:
            raise CallFailed(f"unexpected structuredContent: {json.dumps(result.get('structuredContent'))[:120]}")
        return elapsed


def session_loop(port, path, token, barrier, seconds, base_n, out):
    """A session's thread: initialize, wait for the others, then calls until the deadline."""
    errors = collections.Counter()
    examples = {}
    latencies = []
    restarts = 0
    session = Session(port, path, token)

    def initialize():
        try:
            session.initialize()
            return True
        except Exception as error:
            errors["initialize failed"] += 1
            examples.setdefault("initialize failed", f"initialize failed: {error}")
            return False

    started = initialize()
    barrier.wait()
    began = time.time()
    deadline = began + seconds
    n = base_n
    while started and time.time() < deadline:
        n += 1
        try:
            latencies.append(session.call(n))
        except SessionGone:
            restarts += 1
            if not initialize():
                break
        except CallFailed as error:
            kind = str(error).split(":")[0]
            errors[kind] += 1
            examples.setdefault(kind, str(error))
        except Exception as error:  # the connection failed, or an answer did not parse: start it afresh
            kind = f"{'connection' if isinstance(error, OSError) else 'unreadable answer'}: {type(error).__name__}"
            errors[kind] += 1
            examples.setdefault(kind, f"{kind}: {error}")
            try:
                session.reconnect()
            except OSError:
                break
    ended = time.time()
    session.close()
    out.append({"latencies": latencies, "errors": errors, "examples": examples, "restarts": restarts,
                "began": began, "ended": ended})


def client_process(port, path, token, barrier, seconds, first, count, queue):
    sys.setswitchinterval(0.0005)  # a thread whose answer came waits less for the GIL
    out = []
    threads = [threading.Thread(target=session_loop,
                                args=(port, path, token, barrier, seconds, (first + i) * 10_000_000, out))
               for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put(out)


def run_sessions(bench, path, token, sessions, seconds):
    """`sessions` sessions making calls for `seconds`, spread over one process per core; returns the calls'
    latencies (ms), their rate, the errors and examples of each kind, the session restarts and the client's
    CPU seconds."""
    context = multiprocessing.get_context("fork")
    processes = max(1, min(sessions, os.cpu_count() or 1))
    barrier = context.Barrier(sessions, timeout=300)
    queue = context.Queue()
    shares = [sessions // processes + (1 if i < sessions % processes else 0) for i in range(processes)]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    children = []
    first = 0
    for share in shares:
        child = context.Process(target=client_process,
                                args=(bench.port, path, token, barrier, seconds, first, share, queue))
        child.start()
        children.append(child)
        first += share
    results = [item for _ in children for item in queue.get(timeout=seconds + 300)]
    for child in children:
        child.join()
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    latencies = sorted(x for r in results for x in r["latencies"])
    errors, examples = collections.Counter(), {}
    for r in results:
        errors.update(r["errors"])
        for kind, example in r["examples"].items():
            examples.setdefault(kind, example)
    window = max(r["ended"] for r in results) - min(r["began"] for r in results)
    return {"latencies": latencies, "rate": len(latencies) / window if window > 0 else 0.0, "errors": errors,
            "examples": examples, "restarts": sum(r["restarts"] for r in results), "client_cpu": client_cpu}


def percentile(values, fraction):
    """Nearest-rank percentile of sorted values, in ms to two places; None for no values."""
    if not values:
        return None
    return round(values[min(len(values) - 1, max(0, math.ceil(fraction * len(values)) - 1))], 2)


def error_summary(run):
    if not run["errors"]:
        return "none"
    return "; ".join(f"{count} {kind}" for kind, count in run["errors"].most_common())


def phase_mcp(bench):
    seconds = bench.args.mcp_seconds or bench.args.seconds
    sessions = bench.args.mcp_sessions
    note(f"11/12 mcp: {sessions} MCP sessions making back-to-back tool calls (one map step) for {seconds} s, then "
         f"one session for {seconds} s, with hookline work running ({bench.args.latency_processes} processes)")
    reset_queue(bench)
    server, token = setup(bench)
    path = f"/mcp/{server}"
    work = start(bench, [bench.hookline, "work", "--processes", str(bench.args.latency_processes),
                         "--log-level", "error"], "work-mcp")
    time.sleep(2)
    # Two seconds not counted: the pools open their connections as load needs them, the directory caches.
    warm = run_sessions(bench, path, token, sessions, 2)
    if warm["errors"]:
        note(f"mcp warm-up errors: {error_summary(warm)}")

    workers = [work.pid] + worker_pids(work)
    serve_before, machine_before = cpu_seconds(bench.serve.pid), machine_cpu_seconds()
    workers_before = sum(cpu_seconds(pid) for pid in workers)
    loaded = run_sessions(bench, path, token, sessions, seconds)
    serve_cpu = cpu_seconds(bench.serve.pid) - serve_before
    workers_cpu = sum(cpu_seconds(pid) for pid in workers) - workers_before
    machine_cpu = machine_cpu_seconds() - machine_before

    single_from = psql(bench, "SELECT clock_timestamp()")
    single = run_sessions(bench, path, token, 1, seconds)
    job_p50 = psql(bench, f"""
        SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - received_at)) * 1000)::numeric, 2)
        FROM hookline.job_history WHERE webhook_id = '{server}' AND received_at >= '{single_from}'::timestamptz""")
    stop(work)

    shown = set()
    for run in (warm, loaded, single):
        for kind, example in run["examples"].items():
            if kind not in shown:
                shown.add(kind)
                note(f"mcp error, e.g.: {example}")
    calls = len(loaded["latencies"])
    bench.results["mcp_calls_per_s"] = round(loaded["rate"], 1)
    bench.results["mcp_p50_ms"] = percentile(loaded["latencies"], 0.5)
    bench.results["mcp_p99_ms"] = percentile(loaded["latencies"], 0.99)
    bench.results["mcp_errors"] = error_summary(loaded)
    bench.results["mcp_session_restarts"] = loaded["restarts"]
    if calls:
        # Where the machine's CPU went, per call answered (as for the ingress).
        bench.results["mcp_serve_cpu_us"] = round(1e6 * serve_cpu / calls, 1)
        bench.results["mcp_worker_cpu_us"] = round(1e6 * workers_cpu / calls, 1)
        bench.results["mcp_client_cpu_us"] = round(1e6 * loaded["client_cpu"] / calls, 1)
        bench.results["mcp_postgres_cpu_us"] = round(
            1e6 * (machine_cpu - serve_cpu - workers_cpu - loaded["client_cpu"]) / calls, 1)
    bench.results["mcp_1s_calls_per_s"] = round(single["rate"], 1)
    bench.results["mcp_1s_p50_ms"] = percentile(single["latencies"], 0.5)
    bench.results["mcp_1s_p99_ms"] = percentile(single["latencies"], 0.99)
    # Of a call, the part from enqueued to finished in job_history (the database's clock and the server's).
    bench.results["mcp_1s_job_p50_ms"] = float(job_p50) if job_p50 else None
    bench.results["mcp_1s_errors"] = error_summary(single)
    bench.results["mcp_1s_session_restarts"] = single["restarts"]
