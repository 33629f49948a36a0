"""The load generators: wrk at full speed (and reading its latencies), and webhooks paced at a fixed rate."""
import http.client
import re
import subprocess
import threading
import time


def run_wrk(bench, seconds, connections=64, script=None):
    result = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script or bench.lua,
         f"{bench.base}/webhooks/{bench.webhook}"],
        capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"bench: wrk failed: {result.stderr}")
    return result.stdout


def wrk_ms(text):
    value, unit = re.match(r"([0-9.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def paced_load(bench, rate, seconds, threads=16):
    """Sends `rate` webhooks per second for `seconds`, each at its scheduled time, over keep-alive
    connections; returns the number answered 202 and the number not."""
    total = int(rate * seconds)
    counter = iter(range(total))
    lock = threading.Lock()
    outcome = {"accepted": 0, "other": 0}
    began = time.monotonic() + 0.2
    headers = {"Authorization": f"Bearer {bench.token}", "Content-Type": "application/json"}

    def sender():
        connection = http.client.HTTPConnection("127.0.0.1", bench.port, timeout=10)
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                break
            delay = began + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            try:
                connection.request("POST", f"/webhooks/{bench.webhook}", body=bench.body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except OSError:
                connection = http.client.HTTPConnection("127.0.0.1", bench.port, timeout=10)
                status = 0
            with lock:
                outcome["accepted" if status == 202 else "other"] += 1

    pool = [threading.Thread(target=sender) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return outcome["accepted"], outcome["other"]
