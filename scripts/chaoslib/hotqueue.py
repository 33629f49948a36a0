"""What the chaos runs read of the hot table while they run: the backlog, whether given jobs have left it, and
whether it has emptied. Each answers None (or keeps waiting) while the database does not answer."""
import asyncio
import time

from . import accounting


async def backlog(url):
    """Jobs waiting or running now."""
    try:
        rows = await asyncio.to_thread(
            accounting.psql, url,
            "SET statement_timeout = '2s';\nSELECT count(*) FROM hookline.jobs WHERE state IN ('available', 'running');\n")
        return int(rows[-1][0])
    except Exception:
        return None


async def remaining(url, ids):
    """How many of the jobs `ids` are still in the hot table."""
    if not ids:
        return 0
    try:
        rows = await asyncio.to_thread(
            accounting.psql, url,
            f"SELECT count(*) FROM hookline.jobs WHERE id = ANY('{{{','.join(map(str, ids))}}}'::bigint[]);\n")
        return int(rows[-1][0])
    except Exception:
        return None


async def drained(url, timeout):
    """Waits up to `timeout` seconds for the hot table to be empty; whether it was."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            rows = await asyncio.to_thread(accounting.psql, url, "SELECT count(*) FROM hookline.jobs;\n")
            if int(rows[0][0]) == 0:
                return True
        except RuntimeError:
            pass
        await asyncio.sleep(1)
    return False
