"""ApacheBench (`ab`), an HTTP/1.0 client, against `hookline serve`. Without -k it reads each answer until the
server closes the connection, so a server that keeps an HTTP/1.0 connection open leaves every request waiting
for ab's timeout (5 s here); with -k it reuses a connection only when the answer says `Connection:
keep-alive`. Every request must complete, on the router's path and on the webhook fast path."""

import re
import subprocess

from conftest import BASE_URL, hookline, sql


def ab(*args: str) -> str:
    done = subprocess.run(["ab", "-s", "5", *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def figure(output: str, name: str) -> int:
    found = re.search(rf"^{name}:\s+(\d+)", output, re.MULTILINE)
    return int(found.group(1)) if found else 0


def failures(output: str) -> int:
    """Failed requests but those ab counts for a body length that differs from the first's (job ids do)."""
    found = re.search(r"\(Connect: (\d+), Receive: (\d+), Length: \d+, Exceptions: (\d+)\)", output)
    return sum(map(int, found.groups())) if found else figure(output, "Failed requests")


def test_each_request_is_answered_and_its_connection_closed():
    output = ab("-n", "200", "-c", "4", f"{BASE_URL}/healthz")
    assert figure(output, "Complete requests") == 200, output
    assert failures(output) == 0, output


def test_keep_alive_is_granted_when_asked():
    output = ab("-k", "-n", "200", "-c", "4", f"{BASE_URL}/healthz")
    assert figure(output, "Complete requests") == 200, output
    assert failures(output) == 0, output
    assert figure(output, "Keep-Alive requests") == 200, output


def test_deliveries_over_http10_are_stored(world, tmp_path):
    # A cycle of its own: the deliveries must not show in other tests' job lists.
    cycle = world.a.cycle({"name": "http10", "steps": [{"id": "shape", "type": "map", "fields": {"n": "/n"}}]})
    webhook = hookline("webhooks", "create", "--account", world.a.id, "--cycle", cycle, "--auth", "none")
    body = tmp_path / "delivery.json"
    body.write_text('{"n": 1}')
    for keep_alive in ([], ["-k"]):
        output = ab(*keep_alive, "-n", "100", "-c", "4", "-p", str(body), "-T", "application/json",
                    f"{BASE_URL}/webhooks/{webhook['id']}")
        assert figure(output, "Complete requests") == 100, output
        assert failures(output) == 0, output
        assert figure(output, "Non-2xx responses") == 0, output
    stored = sql("SELECT (SELECT count(*) FROM hookline.jobs WHERE webhook_id = %s)"
                 " + (SELECT count(*) FROM hookline.job_history WHERE webhook_id = %s)", webhook["id"], webhook["id"])
    assert stored == [(200,)]
