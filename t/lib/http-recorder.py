#!/usr/bin/env python3
"""http-recorder.py: a stand-in for an SMS provider's HTTP API, for the
tests of contrib/sms/sms-http

usage: http-recorder.py ADDRESS PORT DIR TOKEN

Answers GET /ready with TOKEN (serve_on_free_port in t/lib/test-lib.sh).
Any other request is written to DIR/req-N.json (N from 1: method, path,
headers, body as received) and answered with the status in DIR/status
(default 201), after the seconds in DIR/delay (default 0).
"""

import http.server
import json
import os
import sys
import time

ADDR, PORT, DIR, TOKEN = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


def setting(name, default):
    try:
        with open(os.path.join(DIR, name)) as f:
            return f.read().strip() or default
    except OSError:
        return default


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def record(self):
        n = len([f for f in os.listdir(DIR) if f.startswith("req-")]) + 1
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        req = {"method": self.command, "path": self.path,
               "headers": [[k, v] for k, v in self.headers.items()],
               "body": body.decode("utf-8", "replace")}
        tmp = os.path.join(DIR, ".req-%d.tmp" % n)
        with open(tmp, "w") as f:
            json.dump(req, f, ensure_ascii=False)
        os.rename(tmp, os.path.join(DIR, "req-%d.json" % n))
        time.sleep(float(setting("delay", "0")))
        self.answer(int(setting("status", "201")), b"recorded\n")

    def do_GET(self):
        if self.path == "/ready":
            self.answer(200, TOKEN.encode() + b"\n")
        else:
            self.record()

    do_POST = do_PUT = record

    def log_message(self, fmt, *args):
        sys.stderr.write("%s\n" % (fmt % args))


http.server.HTTPServer((ADDR, PORT), Handler).serve_forever()
