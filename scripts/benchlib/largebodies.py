"""Phase 12, memory under large bodies: 40 deliveries of 8 MB sent at once (320 MB, within serve's default body
budget of 512 MiB) to the bench's `hookline serve`, each on a connection of its own with the bearer token.
Prints serve's resident size before them, at its peak (VmHWM, which the earlier phases stay far below) and
2 s after the last answer: what the bodies' copies cost while stored, and whether it all goes back."""
import socket
import threading
import time

from .context import note
from .database import reset_queue

DELIVERIES = 40
BODY_BYTES = 8_000_000


def status_mib(pid, field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def phase_largebodies(bench):
    note(f"12/12 largebodies: {DELIVERIES} deliveries of {BODY_BYTES:,} bytes at once to hookline serve")
    reset_queue(bench)
    pad = BODY_BYTES - len('{"type":"order.created","pad":""}')
    body = ('{"type":"order.created","pad":"' + "x" * pad + '"}').encode()
    head = (f"POST /webhooks/{bench.webhook} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {bench.token}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    statuses = []
    lock = threading.Lock()
    start = threading.Barrier(DELIVERIES)

    def deliver():
        with socket.create_connection(("127.0.0.1", bench.port), timeout=120) as connection:
            start.wait()
            connection.sendall(head + body)
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        with lock:
            statuses.append(answer[9:12].decode())

    pid = bench.serve.pid
    before = status_mib(pid, "VmRSS")
    threads = [threading.Thread(target=deliver) for _ in range(DELIVERIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    time.sleep(2)
    accepted = statuses.count("202")
    if accepted != DELIVERIES:
        raise SystemExit(f"bench: {accepted} of {DELIVERIES} large deliveries were accepted: {sorted(statuses)}")
    bench.results["large_bodies_rss_before_mib"] = round(before, 1)
    bench.results["large_bodies_rss_peak_mib"] = round(status_mib(pid, "VmHWM"), 1)
    bench.results["large_bodies_rss_after_mib"] = round(status_mib(pid, "VmRSS"), 1)
