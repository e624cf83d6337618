#!/usr/bin/env python3
"""A webhook receiver for the tests: answers 500 to the first --fail-first calls, then 200.

With --status-file, while that file holds a status code (say 400, or 503) every call gets it;
a test changes or removes the file to "fix" the receiver.

Every call is appended to --log as one JSON line {"n", "status", "key", "body"} (n counts calls),
so a test can check which Idempotency-Keys arrived and how often each was acknowledged. The
port it listens on (127.0.0.1, chosen by the kernel) is written to --port-file once it is ready.
"""
import argparse
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--status-file")
    args = parser.parse_args()
    lock = threading.Lock()
    calls = {"n": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode("utf-8", "replace")
            with lock:
                calls["n"] += 1
                n = calls["n"]
                status = 500 if n <= args.fail_first else 200
                if args.status_file and os.path.exists(args.status_file):
                    with open(args.status_file) as f:
                        text = f.read().strip()
                    if text:
                        status = int(text)
                with open(args.log, "a") as log:
                    log.write(json.dumps({"n": n, "status": status, "key": self.headers.get("Idempotency-Key"),
                                          "path": self.path, "body": body}) + "\n")
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
