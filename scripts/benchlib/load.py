"""The load generator, wrk: at full speed (and reading its output), or paced at a fixed rate."""
import os
import re
import subprocess


def run_wrk(bench, seconds, connections=64, script=None, url=None):
    """wrk -t2 for `seconds` against `url` (default: the bench's webhook on `hookline serve`) with `script`
    (default: POST the 1 KB body with the token); returns its output."""
    result = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script or bench.lua,
         url or f"{bench.base}/webhooks/{bench.webhook}"],
        capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"bench: wrk failed: {result.stderr}")
    return result.stdout


def wrk_ms(text):
    value, unit = re.match(r"([0-9.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk_counts(output):
    """wrk's requests answered, Requests/sec, and answers that were not 2xx or 3xx."""
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1))
    non2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", output) or [0, 0])[1])
    return requests, rate, non2xx


def paced_script(bench, rate, name="paced.lua"):
    """wrk's script (the bench's POST) paced to `rate` requests a second in all, for wrk -t2; returns its path.

    Each of wrk's 2 threads sends its next request at its next slot of a fixed schedule (LuaJIT's FFI reads
    the monotonic clock), whatever the answers' latency: a fixed delay per connection would add the latency
    to it and offer less than `rate`. wrk calls delay() before every request, the first included, and waits
    whole milliseconds, so a request may leave up to 1 ms early; the schedule does not drift."""
    paced = os.path.join(bench.work_dir, name)
    with open(bench.lua, encoding="utf-8") as source, open(paced, "w") as f:
        f.write(source.read())
        f.write(f"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct {{ long tv_sec; long tv_nsec; }} bench_timespec;
int clock_gettime(int clock, bench_timespec *tp);
]]
local now = ffi.new("bench_timespec")
local interval = 2 * 1000.0 / {rate:.3f}
local slot = nil
function delay()
  ffi.C.clock_gettime(1, now)
  local t = tonumber(now.tv_sec) * 1000 + tonumber(now.tv_nsec) / 1e6
  if slot == nil then slot = t end
  slot = slot + interval
  if slot < t then return 0 end
  return slot - t
end
""")
    return paced
