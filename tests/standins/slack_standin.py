#!/usr/bin/env python3
"""A strict Slack incoming-webhook stand-in for tests (docs: /work/shared/design/CONTRACTS.md, section 1).

Contract enforced (what a real hooks.slack.com does, made strict):
  POST /services/T<alnum>/B<alnum>/<24 alnum>   the URL is the credential; anything else -> 404 `no_service`
  method other than POST on such a path          -> 405 `invalid_method` (Allow: POST)
  Content-Type not application/json (a charset parameter is allowed, must be utf-8), body not UTF-8 JSON
  or not an object, wrong types of text/mrkdwn/unfurl_*  -> 400 `invalid_payload`
  no text, blocks or attachments                 -> 400 `no_text`
  Block Kit: blocks a list of <=50 objects of a known type (section, header, context, divider, actions,
  image, rich_text); header.text plain_text 1..150 chars; section needs text or fields, section.text a
  plain_text/mrkdwn object 1..3000 chars, section.fields <=10 items each 1..2000; context.elements 1..10;
  actions.elements 1..25; image needs image_url (or slack_file) and alt_text; block_id <=255
                                                 -> 400 `invalid_blocks`
  attachments a list of <=100 objects            -> 400 `too_many_attachments` when more; an attachment's
  color must be #RRGGBB or good/warning/danger (else 400 `invalid_payload`), its blocks are validated
  like top-level ones (400 `invalid_blocks`), its legacy fields are {title, value, short}
  text longer than 40000 chars                   -> accepted (200 `ok`), but logged invalid: "text truncated"
  token bucket per URL path (capacity 3, 1 token/s; --burst, --refill-per-s) -> 429 `rate_limited`
  with an integer Retry-After (seconds until a token, at least 1). Requests with a wrong method do not
  take a token; invalid bodies on a valid path do (the limit is at the front door).
  valid                                          -> 200 `ok`
All answers are text/plain; charset=utf-8. Fields app webhooks ignore (channel, username, icon_*) and
unknown top-level fields do not make a request invalid: they are listed in the log entry's "notes".

Control interface (test-only, under /_ so it cannot collide with service paths):
  GET  /_log     -> {"requests": [entry, ...], "scripts": {key: [pending answer, ...]}}; entry:
                    {"path" (no query), "query", "method", "at_ms" (float, time.time()*1000 on arrival),
                     "status" (answered; 0 = no answer: reset or client gone; null while hanging),
                     "valid" (passed every contract check), "problems" [str], "notes" [str],
                     "body" (parsed JSON or null), "body_bytes", "headers" {lower-case name: value},
                     "scripted" (the script answer used, or null)}
  POST /_clear   -> empties log, scripts and rate-limit state; 204
  POST /_script  {"key": "/services/T../B../secret", "answers": ["500", "404:channel_not_found", ...]}
                 -> the next requests on that path get these answers in order, then normal behaviour;
                    answers are appended to any still pending ([] clears them); 204, 400 if malformed.
                    Answer: "STATUS" (body: the usual string for it, e.g. 404 channel_not_found,
                    410 channel_is_archived, 403 action_prohibited, 500 rollup_error, 200 ok),
                    "STATUS:BODY" (that body text), "429:SECONDS" (Retry-After: SECONDS; "429" alone
                    sends Retry-After: 1), "hang:SECONDS" (wait, then behave normally), "reset" (close
                    the socket with SO_LINGER 0, no answer). A scripted answer is used even when the
                    request is invalid (the log still says why it is invalid) and bypasses the rate limit.

  slack_standin.py [--port 0] [--port-file PATH] [--burst 3] [--refill-per-s 1] [--no-parent-watch]
Prints "slack stand-in on 127.0.0.1:PORT" once listening; PATH gets the port (written atomically).
Exits on its own when its parent process goes away (unless --no-parent-watch).
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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME = "slack"
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

# ---------------------------------------------------------------- Slack

PATH_RE = re.compile(r"^/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]{24}$")
BLOCK_TYPES = ("section", "header", "context", "divider", "actions", "image", "rich_text")
TEXT_TYPES = ("plain_text", "mrkdwn")
COLOR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")
NAMED_COLORS = ("good", "warning", "danger")
TEXT_MAX = 40000
MAX_BLOCKS = 50
MAX_ATTACHMENTS = 100
IGNORED_FIELDS = ("channel", "username", "icon_emoji", "icon_url")
KNOWN_FIELDS = ("text", "blocks", "attachments", "mrkdwn", "unfurl_links", "unfurl_media", "thread_ts",
                "metadata", "link_names", "parse", "reply_broadcast") + IGNORED_FIELDS
DEFAULT_BODIES = {200: "ok", 400: "invalid_payload", 403: "action_prohibited", 404: "channel_not_found",
                  410: "channel_is_archived", 429: "rate_limited", 500: "rollup_error"}
TEXT_PLAIN = "text/plain; charset=utf-8"


class Problems:
    def __init__(self):
        self.items = []  # (error code answered or None, message)

    def add(self, code, message):
        self.items.append((code, message))

    def first_code(self):
        return next((code for code, _ in self.items if code), None)


def check_text_object(p, where, obj, max_len, plain_only=False, limit_length=True):
    code = "invalid_blocks"
    if not isinstance(obj, dict):
        return p.add(code, "%s must be a text object" % where)
    kind = obj.get("type")
    if plain_only and kind != "plain_text":
        p.add(code, "%s.type must be plain_text (got %r)" % (where, kind))
    elif kind not in TEXT_TYPES:
        p.add(code, "%s.type must be plain_text or mrkdwn (got %r)" % (where, kind))
    if "emoji" in obj and (kind != "plain_text" or not isinstance(obj["emoji"], bool)):
        p.add(code, "%s.emoji is only allowed (as a boolean) on plain_text" % where)
    if "verbatim" in obj and (kind != "mrkdwn" or not isinstance(obj["verbatim"], bool)):
        p.add(code, "%s.verbatim is only allowed (as a boolean) on mrkdwn" % where)
    text = obj.get("text")
    if not isinstance(text, str):
        return p.add(code, "%s.text must be a string" % where)
    if not text:
        p.add(code, "%s.text must not be empty" % where)
    if limit_length and len(text) > max_len:
        p.add(code, "%s.text is %d chars, max %d" % (where, len(text), max_len))


def check_elements(p, where, block, max_items, allowed=None):
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return p.add("invalid_blocks", "%s.elements must be a non-empty array" % where), []
    if len(elements) > max_items:
        p.add("invalid_blocks", "%s.elements has %d items, max %d" % (where, len(elements), max_items))
    good = []
    for i, el in enumerate(elements):
        w = "%s.elements[%d]" % (where, i)
        if not isinstance(el, dict) or not isinstance(el.get("type"), str):
            p.add("invalid_blocks", "%s must be an object with a type" % w)
        elif allowed and el["type"] not in allowed:
            p.add("invalid_blocks", "%s.type %r not allowed here (%s)" % (w, el["type"], ", ".join(allowed)))
        else:
            good.append((w, el))
    return good


def check_blocks(p, where, blocks):
    code = "invalid_blocks"
    if not isinstance(blocks, list):
        return p.add(code, "%s must be an array" % where)
    if len(blocks) > MAX_BLOCKS:
        p.add(code, "%s has %d blocks, max %d" % (where, len(blocks), MAX_BLOCKS))
    for i, block in enumerate(blocks):
        w = "%s[%d]" % (where, i)
        if not isinstance(block, dict):
            p.add(code, "%s must be an object" % w)
            continue
        kind = block.get("type")
        if kind not in BLOCK_TYPES:
            p.add(code, "%s.type %r is not a known block type" % (w, kind))
            continue
        w = "%s (%s)" % (w, kind)
        if "block_id" in block and (not isinstance(block["block_id"], str) or not block["block_id"]
                                    or len(block["block_id"]) > 255):
            p.add(code, "%s.block_id must be a string of 1..255 chars" % w)
        if kind == "header":
            if "text" not in block:
                p.add(code, "%s.text is required" % w)
            else:
                check_text_object(p, w + ".text", block["text"], 150, plain_only=True)
        elif kind == "section":
            has_text, has_fields = "text" in block, "fields" in block
            if not has_text and not has_fields:
                p.add(code, "%s needs text or fields" % w)
            if has_text:
                check_text_object(p, w + ".text", block["text"], 3000)
            if has_fields:
                fields = block["fields"]
                if not isinstance(fields, list) or (not fields and not has_text):
                    p.add(code, "%s.fields must be a non-empty array" % w)
                else:
                    if len(fields) > 10:
                        p.add(code, "%s.fields has %d items, max 10" % (w, len(fields)))
                    for j, field in enumerate(fields):
                        check_text_object(p, "%s.fields[%d]" % (w, j), field, 2000)
            if "accessory" in block and (not isinstance(block["accessory"], dict)
                                         or not isinstance(block["accessory"].get("type"), str)):
                p.add(code, "%s.accessory must be an object with a type" % w)
        elif kind == "context":
            for ew, el in check_elements(p, w, block, 10, ("image", "mrkdwn", "plain_text")):
                if el["type"] == "image":
                    if not isinstance(el.get("image_url"), str) and not isinstance(el.get("slack_file"), dict):
                        p.add(code, "%s needs image_url" % ew)
                    if not isinstance(el.get("alt_text"), str):
                        p.add(code, "%s needs alt_text" % ew)
                else:
                    check_text_object(p, ew, el, 0, limit_length=False)
        elif kind == "actions":
            check_elements(p, w, block, 25)
        elif kind == "image":
            url, slack_file = block.get("image_url"), block.get("slack_file")
            if not (isinstance(url, str) and url) and not isinstance(slack_file, dict):
                p.add(code, "%s needs image_url or slack_file" % w)
            alt = block.get("alt_text")
            if not isinstance(alt, str) or not alt or len(alt) > 2000:
                p.add(code, "%s.alt_text must be a string of 1..2000 chars" % w)
            if "title" in block:
                check_text_object(p, w + ".title", block["title"], 2000, plain_only=True)
        elif kind == "rich_text":
            check_elements(p, w, block, 10 ** 6)


def check_attachments(p, attachments):
    if not isinstance(attachments, list):
        return p.add("invalid_payload", "attachments must be an array")
    if len(attachments) > MAX_ATTACHMENTS:
        p.add("too_many_attachments", "attachments has %d items, max %d" % (len(attachments), MAX_ATTACHMENTS))
    for i, att in enumerate(attachments):
        w = "attachments[%d]" % i
        if not isinstance(att, dict):
            p.add("invalid_payload", "%s must be an object" % w)
            continue
        if "color" in att:
            color = att["color"]
            if not isinstance(color, str) or not (COLOR_RE.match(color) or color in NAMED_COLORS):
                p.add("invalid_payload", "%s.color %r must be #RRGGBB or good/warning/danger" % (w, color))
        for name in ("fallback", "text", "pretext", "title", "title_link", "footer", "author_name"):
            if name in att and not isinstance(att[name], str):
                p.add("invalid_payload", "%s.%s must be a string" % (w, name))
        if "blocks" in att:
            check_blocks(p, w + ".blocks", att["blocks"])
        if "fields" in att:
            fields = att["fields"]
            if not isinstance(fields, list):
                p.add("invalid_payload", "%s.fields must be an array" % w)
                continue
            for j, field in enumerate(fields):
                fw = "%s.fields[%d]" % (w, j)
                if not isinstance(field, dict):
                    p.add("invalid_payload", "%s must be an object" % fw)
                    continue
                for name in ("title", "value"):
                    if name in field and not isinstance(field[name], str):
                        p.add("invalid_payload", "%s.%s must be a string" % (fw, name))
                if "short" in field and not isinstance(field["short"], bool):
                    p.add("invalid_payload", "%s.short must be a boolean" % fw)


def validate(method, headers, raw):
    """-> (Problems, notes, parsed body or None)"""
    p, notes, body = Problems(), [], None
    if method != "POST":
        p.add("invalid_method", "method %s not allowed (POST only)" % method)
    problem = json_content_type_problem(headers.get("content-type"))
    if problem:
        p.add("invalid_payload", problem)
    try:
        body = strict_json(raw)
    except ValueError as e:
        p.add("invalid_payload", "body is not valid UTF-8 JSON (%s)" % e)
        return p, notes, None
    if not isinstance(body, dict):
        p.add("invalid_payload", "body must be a JSON object")
        return p, notes, body
    text = body.get("text")
    if "text" in body and not isinstance(text, str):
        p.add("invalid_payload", "text must be a string")
    for name in ("mrkdwn", "unfurl_links", "unfurl_media"):
        if name in body and not isinstance(body[name], bool):
            p.add("invalid_payload", "%s must be a boolean" % name)
    has_text = isinstance(text, str) and text != ""
    blocks, attachments = body.get("blocks"), body.get("attachments")
    has_blocks = isinstance(blocks, list) and len(blocks) > 0
    has_attachments = isinstance(attachments, list) and len(attachments) > 0
    if not (has_text or has_blocks or has_attachments):
        p.add("no_text", "no text, blocks or attachments")
    if "blocks" in body:
        check_blocks(p, "blocks", blocks)
    if "attachments" in body:
        check_attachments(p, attachments)
    if isinstance(text, str) and len(text) > TEXT_MAX:
        p.add(None, "text truncated")
        notes.append("text is %d chars; Slack truncates at %d" % (len(text), TEXT_MAX))
    if has_blocks and not has_text:
        notes.append("no top-level text: notifications have no fallback")
    for name in body:
        if name in IGNORED_FIELDS:
            notes.append("field %r is ignored by app-based webhooks" % name)
        elif name not in KNOWN_FIELDS:
            notes.append("unknown top-level field %r" % name)
    return p, notes, body


class Bucket:
    def __init__(self, capacity, now):
        self.tokens, self.last = float(capacity), now


def make_handler(args):
    shared = Shared()
    buckets = {}

    class Handler(BaseHandler):
        script_body_allowed = True

        def clear_state(self):
            buckets.clear()

        def service(self, method, path, query, headers, raw, at_ms):
            entry = self.new_entry(method, path, query, headers, at_ms, raw)
            if not PATH_RE.match(path):
                entry["problems"].append("unknown webhook path (want /services/T<team>/B<hook>/<24-char secret>)")
                try:
                    entry["body"] = strict_json(raw)
                except ValueError:
                    pass
                return self.run(entry, None, lambda: (404, b"no_service", TEXT_PLAIN, None))
            problems, notes, body = validate(method, headers, raw)
            entry.update(problems=[m for _, m in problems.items], notes=notes, body=body)
            code = problems.first_code()

            def normal():
                if code == "invalid_method":
                    return 405, b"invalid_method", TEXT_PLAIN, {"Allow": "POST"}
                with shared.lock:
                    now = time.monotonic()
                    bucket = buckets.setdefault(path, Bucket(args.burst, now))
                    bucket.tokens = min(float(args.burst), bucket.tokens + (now - bucket.last) * args.refill_per_s)
                    bucket.last = now
                    if bucket.tokens >= 1:
                        bucket.tokens -= 1
                        wait = 0
                    else:
                        wait = (1 - bucket.tokens) / args.refill_per_s
                if wait:
                    return 429, b"rate_limited", TEXT_PLAIN, {"Retry-After": str(max(1, math.ceil(wait)))}
                if code:
                    return 400, code.encode(), TEXT_PLAIN, None
                return 200, b"ok", TEXT_PLAIN, None

            self.run(entry, path, normal)

        def scripted_answer(self, answer, entry):
            status = answer["status"]
            body = answer["body"]
            if body is None:
                body = DEFAULT_BODIES.get(status, "ok" if status < 300 else "service_unavailable")
            headers = None
            if status == 429:
                headers = {"Retry-After": str(answer["retry_after"] if answer["retry_after"] is not None else 1)}
            if status in (204, 304):
                body = ""
            return status, body.encode(), TEXT_PLAIN, headers

    Handler.shared = shared
    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common_args(parser)
    parser.add_argument("--burst", type=int, default=3, help="token bucket capacity per URL (default 3)")
    parser.add_argument("--refill-per-s", type=float, default=1.0, help="tokens added per second (default 1)")
    args = parser.parse_args()
    if args.burst < 1 or args.refill_per_s <= 0:
        parser.error("--burst must be >= 1 and --refill-per-s > 0")
    serve(make_handler(args), args, NAME)


if __name__ == "__main__":
    sys.exit(main())
