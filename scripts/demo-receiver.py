#!/usr/bin/env python3
"""A small HTTP receiver for scripts/demo: answers every POST with 200 and a JSON body, and appends each
request (path, two headers, body) as one JSON line to the file given, so the demo can show what arrived."""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, log_path = int(sys.argv[1]), sys.argv[2]


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8", "replace")
        with open(log_path, "a") as log:
            log.write(json.dumps({
                "path": self.path,
                "idempotency_key": self.headers.get("Idempotency-Key"),
                "x_account": self.headers.get("X-Account"),
                "body": body,
            }) + "\n")
        answer = json.dumps({"received": True, "crm_id": "crm-%d" % sum(1 for _ in open(log_path))}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
