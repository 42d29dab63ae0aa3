"""HTTP machinery shared by the Slack, PagerDuty and Teams stand-ins (slack_standin.py,
pagerduty_standin.py, teams_standin.py in this directory); each of those keeps only its service's
contract checks, answers and state, and documents its contract and control interface.

What lives here:
  a ThreadingHTTPServer on 127.0.0.1 (HTTP/1.1 keep-alive, TCP_NODELAY, Expect: 100-continue as
  http.server does it), body reading (Content-Length or chunked, at most MAX_READ bytes), strict JSON
  and Content-Type checks, the request log, the /_log, /_clear and /_script control interface
  (BaseHandler.control), scripted answers (STATUS, STATUS:BODY, 429:SECONDS, hang:SECONDS, reset;
  BaseHandler.run), a sliding-window rate limit, the parent watch, and the common CLI flags
  (--port, --port-file, --no-parent-watch) with serve().

A stand-in subclasses BaseHandler and implements service() and scripted_answer(); optionally
extra_control() (more /_ paths), extra_log() (more keys in /_log) and clear_state() (its state, on
/_clear, called with the shared lock held).

Imported by name: the scripts are started as `python3 /abs/path/tests/standins/<script>` from any
working directory, and Python puts the script's directory first on sys.path.
"""
import collections
import json
import math
import os
import select
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_READ = 32 * 1024 * 1024  # the most any stand-in reads of one body


class BodyError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def lower_headers(message):
    out = {}
    for name, value in message.items():
        name = name.lower()
        out[name] = out[name] + ", " + value if name in out else value
    return out


def strict_json(raw):
    """UTF-8 JSON as a strict parser sees it: no BOM, no NaN/Infinity. Raises ValueError."""
    def bad_constant(name):
        raise ValueError("invalid JSON constant " + name)
    return json.loads(raw.decode("utf-8"), parse_constant=bad_constant)


def json_content_type_problem(value):
    if not value:
        return "Content-Type header missing (must be application/json)"
    parts = value.split(";")
    if parts[0].strip().lower() != "application/json":
        return "Content-Type is %r, must be application/json" % value
    for param in parts[1:]:
        name, _, val = param.partition("=")
        if name.strip().lower() == "charset" and val.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return "Content-Type charset is %r, must be utf-8" % val.strip()
    return None


def parse_answer(text, body_allowed):
    """One script answer -> dict; raises ValueError when malformed."""
    if not isinstance(text, str):
        raise ValueError("answer %r is not a string" % (text,))
    if text == "reset":
        return {"kind": "reset"}
    head, sep, tail = text.partition(":")
    if head == "hang":
        seconds = float(tail)
        if not math.isfinite(seconds) or not 0 <= seconds <= 3600:
            raise ValueError("hang seconds out of range in %r" % text)
        return {"kind": "hang", "seconds": seconds}
    if not head.isdigit() or not 200 <= int(head) <= 599:
        raise ValueError("answer %r: status must be 200..599" % text)
    answer = {"kind": "status", "status": int(head), "body": None, "retry_after": None}
    if sep:
        if answer["status"] == 429 and tail.isdigit():
            answer["retry_after"] = int(tail)
        elif body_allowed and tail:
            answer["body"] = tail
        else:
            raise ValueError("answer %r: only 429:SECONDS may carry a value here" % text)
    return answer


class Shared:
    def __init__(self):
        self.lock = threading.Lock()
        self.log = []
        self.scripts = {}

    def clear(self):
        self.log.clear()
        self.scripts.clear()

    def pop_script(self, key):
        with self.lock:
            queue = self.scripts.get(key)
            if not queue:
                return None
            item = queue.popleft()
            if not queue:
                del self.scripts[key]
            return item


class SlidingWindow:
    """At most `limit` events per `window` seconds per key."""

    def __init__(self, limit, window):
        self.limit, self.window = limit, window
        self.events = {}

    def take(self, key, now):
        """0 if allowed (and counted), else seconds until one is allowed."""
        queue = self.events.setdefault(key, collections.deque())
        while queue and queue[0] <= now - self.window:
            queue.popleft()
        if len(queue) >= self.limit:
            return queue[0] + self.window - now
        queue.append(now)
        return 0

    def clear(self):
        self.events.clear()


class BaseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120
    shared = None
    script_body_allowed = False

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        # Headers and body go out in two writes: without this, Nagle + delayed ACK add ~40 ms per
        # answer on a kept-alive connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_HEAD(self):
        self.dispatch("HEAD")

    def do_OPTIONS(self):
        self.dispatch("OPTIONS")

    # -- wire helpers

    def read_body(self):
        te = self.headers.get("Transfer-Encoding")
        if te:
            if te.strip().lower() != "chunked":
                raise BodyError(501, "unsupported Transfer-Encoding %r" % te)
            return self.read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.strip().isdigit():
            raise BodyError(400, "bad Content-Length %r" % length)
        n = int(length)
        if n > MAX_READ:
            raise BodyError(413, "body of %d bytes is more than this stand-in reads" % n)
        data = self.rfile.read(n)
        if len(data) < n:
            raise BodyError(400, "body shorter than Content-Length")
        return data

    def read_chunked(self):
        chunks, total = [], 0
        while True:
            line = self.rfile.readline(65537)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise BodyError(400, "bad chunk size line %r" % line[:40])
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_READ:
                raise BodyError(413, "chunked body is more than this stand-in reads")
            data = self.rfile.read(size)
            if len(data) < size:
                raise BodyError(400, "chunked body truncated")
            chunks.append(data)
            self.rfile.readline()

    def send(self, status, body=b"", ctype=None, headers=None):
        try:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if ctype:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and body:
                self.wfile.write(body)
            return True
        except OSError:
            self.close_connection = True
            return False

    def send_json(self, status, doc, headers=None):
        self.send(status, json.dumps(doc).encode(), "application/json; charset=utf-8", headers)

    def reset(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass

    def hang(self, seconds):
        """Wait; False as soon as the client closes its end (it gave up)."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            readable, _, _ = select.select([self.connection], [], [], min(left, 0.05))
            if readable:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        return False
                except OSError:
                    return False
                time.sleep(min(max(left, 0), 0.05))  # pipelined data: keep waiting

    # -- request flow

    def dispatch(self, method):
        at_ms = time.time() * 1000
        target = self.path
        if target.startswith(("http://", "https://")):
            target = "/" + target.split("/", 3)[3] if target.count("/") >= 3 else "/"
        path, _, query = target.partition("?")
        headers = lower_headers(self.headers)
        try:
            raw = self.read_body()
        except BodyError as e:
            self.close_connection = True
            entry = self.new_entry(method, path, query, headers, at_ms, b"")
            entry.update(status=e.status, problems=[str(e)])
            with self.shared.lock:
                self.shared.log.append(entry)
            self.send(e.status, str(e).encode(), "text/plain; charset=utf-8")
            return
        if path.startswith("/_"):
            self.control(method, path, raw)
        else:
            self.service(method, path, query, headers, raw, at_ms)

    def new_entry(self, method, path, query, headers, at_ms, raw):
        return {"path": path, "query": query, "method": method, "at_ms": at_ms, "status": None,
                "valid": False, "problems": [], "notes": [], "body": None, "body_bytes": len(raw),
                "headers": headers, "scripted": None}

    def control(self, method, path, raw):
        if path == "/_log":
            if method != "GET":
                return self.send_json(405, {"error": "GET only"}, {"Allow": "GET"})
            with self.shared.lock:
                doc = {"requests": self.shared.log,
                       "scripts": {k: [a for a, _ in q] for k, q in self.shared.scripts.items()}}
                doc.update(self.extra_log())
                body = json.dumps(doc).encode()
            return self.send(200, body, "application/json; charset=utf-8")
        if path == "/_clear":
            if method != "POST":
                return self.send_json(405, {"error": "POST only"}, {"Allow": "POST"})
            with self.shared.lock:
                self.shared.clear()
                self.clear_state()
            return self.send(204)
        if path == "/_script":
            if method != "POST":
                return self.send_json(405, {"error": "POST only"}, {"Allow": "POST"})
            try:
                doc = strict_json(raw)
                if not isinstance(doc, dict) or not isinstance(doc.get("key"), str) or not doc["key"]:
                    raise ValueError('need {"key": non-empty string, "answers": [string, ...]}')
                if not isinstance(doc.get("answers"), list):
                    raise ValueError('"answers" must be a list of strings')
                parsed = [(a, parse_answer(a, self.script_body_allowed)) for a in doc["answers"]]
            except ValueError as e:
                return self.send_json(400, {"error": "malformed script: %s" % e})
            with self.shared.lock:
                if parsed:
                    self.shared.scripts.setdefault(doc["key"], collections.deque()).extend(parsed)
                else:
                    self.shared.scripts.pop(doc["key"], None)
            return self.send(204)
        if not self.extra_control(method, path):
            self.send_json(404, {"error": "unknown control path %s" % path})

    def run(self, entry, key, normal):
        """Log the request, then answer it: scripted (if a script is pending for key) or normal().

        normal() -> (status, body, ctype, headers); it performs the side effects (rate limit, state)."""
        scripted = self.shared.pop_script(key) if key is not None else None
        entry["valid"] = not entry["problems"]
        with self.shared.lock:
            entry["scripted"] = scripted[0] if scripted else None
            self.shared.log.append(entry)
        alive = True
        if scripted:
            answer = scripted[1]
            if answer["kind"] == "reset":
                with self.shared.lock:
                    entry["status"] = 0
                return self.reset()
            if answer["kind"] == "status":
                status, body, ctype, headers = self.scripted_answer(answer, entry)
                with self.shared.lock:
                    entry["status"] = status
                return self.send(status, body, ctype, headers)
            alive = self.hang(answer["seconds"])
        status, body, ctype, headers = normal()
        with self.shared.lock:
            if alive:
                entry["status"] = status
            else:
                entry["status"] = 0
                entry["notes"].append("client closed the connection while the answer was delayed "
                                      "(request processed, would have answered %d)" % status)
        if not alive:
            self.close_connection = True
            return
        self.send(status, body, ctype, headers)

    # -- per service

    def service(self, method, path, query, headers, raw, at_ms):
        raise NotImplementedError

    def scripted_answer(self, answer, entry):
        raise NotImplementedError

    def extra_control(self, method, path):
        return False

    def extra_log(self):
        return {}

    def clear_state(self):
        pass


def parent_watch():
    parent = os.getppid()
    while True:
        time.sleep(0.2)
        if os.getppid() != parent:
            os._exit(0)


def serve(handler, args, label):
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    server.daemon_threads = True
    server.request_queue_size = 128
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(server.server_address[1]))
        os.replace(args.port_file + ".tmp", args.port_file)
    if not args.no_parent_watch:
        threading.Thread(target=parent_watch, daemon=True).start()
    print("%s stand-in on 127.0.0.1:%d" % (label, server.server_address[1]), flush=True)
    server.serve_forever()


def common_args(parser):
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", help="write the port here once listening (atomically)")
    parser.add_argument("--no-parent-watch", action="store_true",
                        help="keep running when the parent process exits")
