"""50 concurrent MCP sessions of the official client, 20 tool calls each, on a map-only cycle: every call is
answered with its own output, and the database holds exactly one completed job per call."""

import asyncio
import time

import anyio
import pytest

from conftest import FIGURES, connect, sql, structured

pytestmark = pytest.mark.anyio

SESSIONS = 50
CALLS = 20


async def session(url: str, token: str, number: int) -> list[tuple[int, int, dict]]:
    answers = []
    async with connect(url, token=token) as client:
        for call in range(CALLS):
            arguments = {"session": number, "call": call, "idempotency_key": f"load-{number}-{call}"}
            result = await client.call_tool("tally", arguments | {"wait_seconds": 60})
            answers.append((number, call, structured(result)))
    return answers


async def test_fifty_sessions_of_twenty_calls(world, a_token):
    cycle = world.a.cycles["tally"]
    started = time.monotonic()
    with anyio.fail_after(300):  # bounded: a stuck call fails the test instead of hanging it
        results = await asyncio.gather(*(session(world.a.servers["main"], a_token, n) for n in range(SESSIONS)))
    took = time.monotonic() - started
    FIGURES.append(f"{SESSIONS} sessions x {CALLS} calls: {took:.1f} s, {SESSIONS * CALLS / took:.0f} calls/s")

    answers = [answer for answers in results for answer in answers]
    assert len(answers) == SESSIONS * CALLS
    for number, call, output in answers:
        assert output == {"session": number, "call": call, "tag": f"s{number}c{call}"}

    waiting = sql("SELECT count(*) FROM hookline.jobs WHERE cycle_id = %s", cycle)[0][0]
    assert waiting == 0, f"{waiting} jobs of the cycle are still in the queue"
    rows = sql(
        "SELECT count(*), count(DISTINCT idempotency_key), count(*) FILTER (WHERE state = 'completed'"
        " AND outcome = 'succeeded' AND attempt = 1), count(DISTINCT body) FROM hookline.job_history"
        " WHERE cycle_id = %s",
        cycle,
    )
    assert rows == [(SESSIONS * CALLS,) * 4]
    # Each job's step ran once.
    runs = sql(
        "SELECT count(*), count(DISTINCT s.job_id) FROM hookline.step_runs s"
        " JOIN hookline.job_history h ON h.id = s.job_id WHERE h.cycle_id = %s",
        cycle,
    )
    assert runs == [(SESSIONS * CALLS, SESSIONS * CALLS)]
