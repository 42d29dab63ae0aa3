#!/usr/bin/env python3
"""A strict Standard Webhooks v1 receiver for tests (the contract in docs/openapi.json, "webhooks").

Every request must carry webhook-id, webhook-timestamp (within 300 s) and a webhook-signature with a
valid v1 HMAC-SHA256 over "{id}.{timestamp}.{body}" (constant-time compare); otherwise it answers 401
and records the request as invalid. What it answers is chosen by the path:

  /ok                     200
  /seq/429:2,500,200      per path, in order: 429 with Retry-After 2, then 500, then 200 from then on;
                          an entry is a status, status:retry-after-seconds, hang:seconds, or reset
  /hang/5                 waits 5 s, then 200
  /status/410             always that status
  /reset                  closes the connection without answering (TCP reset)

GET /_log returns every request received (id, path, valid, status answered, arrival time in ms, the
concurrency seen for that id and that path); POST /_clear empties it.
"""
import argparse
import base64
import hashlib
import hmac
import json
import select
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_S = 300


class State:
    def __init__(self, key):
        self.key = key
        self.lock = threading.Lock()
        self.log = []
        self.seq_pos = {}
        self.inflight_id = {}
        self.inflight_path = {}
        self.max_path = {}


def verify(key, msg_id, ts, body, header):
    signed = msg_id.encode() + b"." + ts.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    ok = False
    for entry in header.split(" "):
        version, _, sig = entry.partition(",")
        if version == "v1" and hmac.compare_digest(sig, expected):
            ok = True
    return ok


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def answer(self, status, body=b"", retry_after=None):
            self.send_response(status)
            if retry_after is not None:
                self.send_header("Retry-After", str(retry_after))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path.startswith("/_log"):
                with state.lock:
                    doc = {"requests": state.log, "max_concurrency_per_path": state.max_path}
                    body = json.dumps(doc).encode()
                self.answer(200, body)
            else:
                self.answer(404)

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if self.path == "/_clear":
                with state.lock:
                    state.log.clear()
                    state.seq_pos.clear()
                    state.max_path.clear()
                self.answer(204)
                return
            arrived = int(time.time() * 1000)
            msg_id = self.headers.get("webhook-id", "")
            ts = self.headers.get("webhook-timestamp", "")
            sig = self.headers.get("webhook-signature", "")
            valid = bool(msg_id and ts.isdigit() and sig) and abs(time.time() - int(ts)) <= TOLERANCE_S \
                and verify(state.key, msg_id, ts, body, sig)
            path = self.path.split("?")[0]
            action = self.choose(path)
            with state.lock:
                n_id = state.inflight_id.get(msg_id, 0) + 1
                state.inflight_id[msg_id] = n_id
                n_path = state.inflight_path.get(path, 0) + 1
                state.inflight_path[path] = n_path
                state.max_path[path] = max(state.max_path.get(path, 0), n_path)
                entry = {"id": msg_id, "path": path, "valid": valid, "arrived_ms": arrived,
                         "timestamp": ts, "concurrent_same_id": n_id, "concurrent_same_path": n_path,
                         "action": action}
                try:
                    entry["body"] = json.loads(body)
                except ValueError:
                    entry["body"] = None
                state.log.append(entry)
            try:
                if not valid:
                    entry["status"] = 401
                    self.answer(401, b'{"error":"invalid signature"}')
                    return
                kind, _, arg = action.partition(":")
                if kind == "reset":
                    entry["status"] = 0
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.connection.close()
                    return
                if kind == "hang":
                    # Hang, but notice a client that gave up (timeout): its connection no longer counts.
                    deadline = time.time() + float(arg)
                    while time.time() < deadline:
                        readable, _, _ = select.select([self.connection], [], [], 0.05)
                        if readable and not self.connection.recv(1, socket.MSG_PEEK):
                            entry["status"] = 0
                            self.close_connection = True
                            return
                    kind, arg = "200", ""
                status = int(kind)
                entry["status"] = status
                self.answer(status, b'{"ok":true}' if status < 300 else b'{"error":"scripted"}',
                            retry_after=arg if arg else None)
            finally:
                with state.lock:
                    state.inflight_id[msg_id] -= 1
                    state.inflight_path[path] -= 1

        def choose(self, path):
            parts = path.strip("/").split("/")
            if parts[0] == "ok":
                return "200"
            if parts[0] == "status" and len(parts) > 1:
                return parts[1]
            if parts[0] == "hang" and len(parts) > 1:
                return "hang:" + parts[1]
            if parts[0] == "reset":
                return "reset"
            if parts[0] == "seq" and len(parts) > 1:
                script = parts[1].split(",")
                with state.lock:
                    pos = state.seq_pos.get(path, 0)
                    state.seq_pos[path] = pos + 1
                return script[min(pos, len(script) - 1)]
            return "404"

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--secret", required=True, help="whsec_... signing secret")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", help="write the port here once listening")
    args = parser.parse_args()
    secret = args.secret[6:] if args.secret.startswith("whsec_") else args.secret
    state = State(base64.b64decode(secret))
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(state))
    server.daemon_threads = True
    server.request_queue_size = 128
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(server.server_address[1]))
        import os
        os.replace(args.port_file + ".tmp", args.port_file)
    print("webhook receiver on 127.0.0.1:%d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
