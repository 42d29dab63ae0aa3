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
import math
import re
import sys
import time

# standin_http.py sits next to this script; Python puts the script's directory first on sys.path,
# so this works whatever the working directory (the tests start the script by absolute path).
# No bytecode: importing it would otherwise leave a __pycache__ in the source tree on every test run.
sys.dont_write_bytecode = True
from standin_http import BaseHandler, Shared, common_args, json_content_type_problem, serve, strict_json

NAME = "slack"

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
