#!/usr/bin/env python3
"""A strict Microsoft Teams Workflows-webhook stand-in for tests (docs: /work/shared/design/CONTRACTS.md, section 3).

Contract enforced, in this order:
  path: /workflows/<id>/triggers/manual/paths/invoke or
        /powerautomate/automations/direct/workflows/<id>/triggers/manual/paths/invoke  (<id>: [A-Za-z0-9_-]+)
        legacy Office 365 connector paths (containing /webhookb2/, /IncomingWebhook/ or /webhook/) -> 404
        {"error":{"code":"ConnectorRetired",...}}; any other path -> 404 {"error":{"code":"WorkflowNotFound"}}
  method other than POST                         -> 405 TriggerRequestMethodNotValid (Allow: POST)
  api-version query parameter missing or empty   -> 400 MissingApiVersionParameter
  sp, sv or sig missing or empty (or repeated)   -> 401 {"error":{"code":"DirectApiAuthorizationRequired",...}}
  sp not "/triggers/manual/run" once URL-decoded (e.g. double-encoded), sv not "1.0", or sig not the
  --sig value (when given)                       -> 401 DirectApiInvalidAuthorizationSignature
  more than 4 requests per second per workflow path (--rate-limit, --rate-window)
                                                 -> 429 WorkflowRequestsThrottled, Retry-After: 1 (integer)
  body larger than 28 KB (28672 bytes)           -> 413 {"error":{"code":"MessageTooLarge",...}}
  body not valid UTF-8 JSON (Content-Type JSON)  -> 400 InvalidRequestContent (as Logic Apps does)
  otherwise                                      -> 202 Accepted, empty body, even for an invalid card: the
  verdict goes to the log only ("valid"/"problems"), as the real service fails the flow run later:
  Content-Type application/json (charset utf-8 allowed), top-level object with type == "message",
  attachments a non-empty array, each an object with contentType exactly
  "application/vnd.microsoft.card.adaptive" and content an object (not a string) with type ==
  "AdaptiveCard", version a string "1.0".."1.5", body an array, and no Action.Submit / Action.Execute
  anywhere in the card (searched recursively; webhook cards support OpenUrl, ShowCard, ToggleVisibility).

Control interface (test-only, under /_):
  GET  /_log     -> {"requests": [entry, ...], "scripts": {...}}; entry: {"path" (no query), "query"
                    (raw query string), "params" {name: decoded value}, "workflow_id", "method", "at_ms",
                    "status" (0 = reset/client gone, null while hanging), "valid", "problems", "notes",
                    "body", "body_bytes", "headers" (lower-case), "scripted"}
  POST /_clear   -> empties log, scripts and rate-limit windows; 204
  POST /_script  {"key": "/workflows/<id>/triggers/manual/paths/invoke", "answers": ["500", "429:3", ...]}
                 -> the next requests on that path (without query) get these answers in order, then normal;
                 appended to any pending ([] clears); 204, 400 if malformed. "STATUS" only (2xx: empty
                 body; others: an {"error":{"code","message"}} body), "429:SECONDS" (Retry-After:
                 SECONDS; "429" alone sends Retry-After: 1), "hang:SECONDS" (wait, then normal), "reset"
                 (SO_LINGER 0 close). Scripted answers skip the rate limit and are used even when the
                 request is invalid.

  teams_standin.py [--port 0] [--port-file PATH] [--sig SIG] [--rate-limit 4] [--rate-window 1]
                   [--no-parent-watch]
Prints "teams stand-in on 127.0.0.1:PORT" once listening; PATH gets the port (written atomically).
"""
import argparse
import collections
import json
import math
import os
import re
import select
import socket
import struct
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

NAME = "teams"
MAX_READ = 32 * 1024 * 1024  # the most any stand-in reads of one body

# ---------------------------------------------------------------- common stand-in machinery (same in all three)


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

# ---------------------------------------------------------------- Teams

PATH_RES = (re.compile(r"^/workflows/([A-Za-z0-9_-]+)/triggers/manual/paths/invoke$"),
            re.compile(r"^/powerautomate/automations/direct/workflows/([A-Za-z0-9_-]+)/triggers/manual/paths/invoke$"))
LEGACY_MARKERS = ("/webhookb2/", "/incomingwebhook/", "/webhook/")
MAX_BODY = 28 * 1024
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4", "1.5")
FORBIDDEN_ACTIONS = ("Action.Submit", "Action.Execute")
JSON_TYPE = "application/json; charset=utf-8"
ERROR_CODES = {400: "InvalidRequestContent", 401: "DirectApiAuthorizationRequired",
               403: "DirectApiInvalidAuthorizationSignature", 404: "WorkflowNotFound",
               405: "TriggerRequestMethodNotValid", 409: "Conflict", 413: "MessageTooLarge",
               429: "WorkflowRequestsThrottled", 500: "InternalServerError", 502: "BadGateway",
               503: "ServiceUnavailable", 504: "GatewayTimeout"}


def error_doc(code, message):
    return json.dumps({"error": {"code": code, "message": message}}).encode()


def find_forbidden(node, where, out):
    if isinstance(node, dict):
        if node.get("type") in FORBIDDEN_ACTIONS:
            out.append((node["type"], where))
        for name, value in node.items():
            find_forbidden(value, "%s.%s" % (where, name), out)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            find_forbidden(value, "%s[%d]" % (where, i), out)


def check_card(body):
    problems = []
    if not isinstance(body, dict):
        return ["top level must be a JSON object"]
    if body.get("type") != "message":
        problems.append('top-level type must be "message" (got %s)' % json.dumps(body.get("type")))
    attachments = body.get("attachments")
    if not isinstance(attachments, list) or not attachments:
        problems.append("attachments must be a non-empty array")
        return problems
    for i, att in enumerate(attachments):
        w = "attachments[%d]" % i
        if not isinstance(att, dict):
            problems.append("%s must be an object" % w)
            continue
        if att.get("contentType") != CARD_TYPE:
            problems.append("%s.contentType must be %r (got %s)" % (w, CARD_TYPE, json.dumps(att.get("contentType"))))
        card = att.get("content")
        if not isinstance(card, dict):
            problems.append("%s.content must be an Adaptive Card object (got %s)" % (w, type(card).__name__))
            continue
        if card.get("type") != "AdaptiveCard":
            problems.append("%s.content.type must be 'AdaptiveCard' (got %s)" % (w, json.dumps(card.get("type"))))
        version = card.get("version")
        if not isinstance(version, str):
            problems.append("%s.content.version must be a string \"1.0\"..\"1.5\" (got %s)" % (w, json.dumps(version)))
        elif version not in VERSIONS:
            problems.append("%s.content.version %r not supported (Teams renders 1.0..1.5)" % (w, version))
        if not isinstance(card.get("body"), list):
            problems.append("%s.content.body must be an array" % w)
        found = []
        find_forbidden(card, w + ".content", found)
        for kind, where in found:
            problems.append("%s at %s is not supported in webhook cards" % (kind, where))
    return problems


def make_handler(args):
    shared = Shared()
    window = SlidingWindow(args.rate_limit, args.rate_window)

    class Handler(BaseHandler):
        def clear_state(self):
            window.clear()

        def service(self, method, path, query, headers, raw, at_ms):
            entry = self.new_entry(method, path, query, headers, at_ms, raw)
            pairs = parse_qsl(query, keep_blank_values=True)
            params = {}
            for name, value in pairs:
                params.setdefault(name, value)
            entry["params"] = params
            entry["workflow_id"] = None
            try:
                entry["body"] = strict_json(raw)
            except ValueError:
                pass
            match = next((m for m in (r.match(path) for r in PATH_RES) if m), None)
            if match is None:
                if any(marker in path.lower() for marker in LEGACY_MARKERS):
                    entry["problems"].append("legacy Office 365 connector URL: connectors are retired")
                    doc = error_doc("ConnectorRetired", "Office 365 connectors in Teams are retired; "
                                    "use a Workflows webhook URL (.../workflows/<id>/triggers/manual/paths/invoke)")
                else:
                    entry["problems"].append("unknown path %s" % path)
                    doc = error_doc("WorkflowNotFound", "The workflow for path %s could not be found." % path)
                return self.run(entry, None, lambda: (404, doc, JSON_TYPE, None))
            entry["workflow_id"] = match.group(1)
            p = entry["problems"]
            front = None  # (status, code, message) of the first front-door failure

            def fail(status, code, message):
                nonlocal front
                p.append(message)
                if front is None:
                    front = (status, code, message)

            if method != "POST":
                fail(405, "TriggerRequestMethodNotValid",
                     "The HTTP method for this request is not valid: expected 'Post' and actual '%s'." % method)
            if not params.get("api-version"):
                fail(400, "MissingApiVersionParameter",
                     "The api-version query parameter (?api-version=) is required for all requests.")
            counts = collections.Counter(name for name, _ in pairs)
            for name in ("sp", "sv", "sig"):
                if not params.get(name):
                    fail(401, "DirectApiAuthorizationRequired",
                         "The request must be authenticated: query parameter %r is missing or empty." % name)
                elif counts[name] > 1:
                    fail(401, "DirectApiAuthorizationRequired", "Query parameter %r is repeated." % name)
            if params.get("sp") and params["sp"] != "/triggers/manual/run":
                fail(401, "DirectApiInvalidAuthorizationSignature",
                     "sp is %r once decoded, expected '/triggers/manual/run' (URL encoded twice?)" % params["sp"])
            if params.get("sv") and params["sv"] != "1.0":
                fail(401, "DirectApiInvalidAuthorizationSignature", "sv is %r, expected '1.0'" % params["sv"])
            if args.sig is not None and params.get("sig") and params["sig"] != args.sig:
                fail(401, "DirectApiInvalidAuthorizationSignature",
                     "The provided sig does not match this workflow.")
            too_big = len(raw) > MAX_BODY
            if too_big:
                p.append("body is %d bytes, Teams messages are limited to 28 KB (%d bytes)" % (len(raw), MAX_BODY))
            problem = json_content_type_problem(headers.get("content-type"))
            if problem:
                p.append(problem)
            unparsable = None
            try:
                strict_json(raw)
            except ValueError as e:
                unparsable = "body is not valid UTF-8 JSON (%s)" % e
                p.append(unparsable)
            if unparsable is None:
                p.extend(check_card(entry["body"]))

            def normal():
                if front:
                    status, code, message = front
                    return status, error_doc(code, message), JSON_TYPE, {"Allow": "POST"} if status == 405 else None
                with shared.lock:
                    wait = window.take(path, time.monotonic())
                if wait:
                    return (429, error_doc("WorkflowRequestsThrottled", "Rate limit is exceeded. Try again in 1 seconds."),
                            JSON_TYPE, {"Retry-After": str(max(1, math.ceil(wait)))})
                if too_big:
                    return 413, error_doc("MessageTooLarge", "The message size limit is 28 KB."), JSON_TYPE, None
                if unparsable and not problem:
                    return 400, error_doc("InvalidRequestContent", "The request content is not valid and could "
                                          "not be deserialized: " + unparsable), JSON_TYPE, None
                return 202, b"", None, {"x-ms-workflow-run-id": uuid.uuid4().hex}

            self.run(entry, path, normal)

        def scripted_answer(self, answer, entry):
            status = answer["status"]
            headers = None
            if status == 429:
                headers = {"Retry-After": str(answer["retry_after"] if answer["retry_after"] is not None else 1)}
            if status < 300:
                return status, b"", None, headers
            code = ERROR_CODES.get(status, "Error%d" % status)
            return status, error_doc(code, "Scripted %d answer." % status), JSON_TYPE, headers

    Handler.shared = shared
    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common_args(parser)
    parser.add_argument("--sig", help="if given, the sig query parameter must equal this")
    parser.add_argument("--rate-limit", type=int, default=4, help="requests per window per workflow (4)")
    parser.add_argument("--rate-window", type=float, default=1.0, help="sliding window in seconds (1)")
    args = parser.parse_args()
    if args.rate_limit < 1 or args.rate_window <= 0:
        parser.error("--rate-limit must be >= 1 and --rate-window > 0")
    serve(make_handler(args), args, NAME)


if __name__ == "__main__":
    sys.exit(main())
