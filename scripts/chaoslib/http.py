"""The little HTTP/1.1 that the chaos run speaks itself (asyncio streams, Content-Length bodies only): enough
for the provider's requests, the destination's answers and nothing else."""
import asyncio


async def read_message(reader, limit=1 << 20):
    """Reads one message (request or response) from `reader`: (start line, headers with lowercase names,
    body). Raises EOFError when the peer closed before a message began."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    start = lines[0]
    if not start:
        raise EOFError
    headers = {}
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    if length > limit:
        raise ValueError(f"body of {length} bytes")
    body = await reader.readexactly(length) if length else b""
    return start, headers, body


def request_bytes(method, path, headers, body=b""):
    lines = [f"{method} {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def response_bytes(status, body=b"", headers=None):
    reasons = {200: "OK", 422: "Unprocessable Content", 503: "Service Unavailable"}
    lines = [f"HTTP/1.1 {status} {reasons.get(status, 'Status')}", "Content-Type: application/json",
             f"Content-Length: {len(body)}"] + [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def close(writer):
    try:
        writer.close()
        await asyncio.wait_for(writer.wait_closed(), 1)
    except Exception:
        pass
