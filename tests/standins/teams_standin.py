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
import re
import sys
import time
import uuid
from urllib.parse import parse_qsl

# standin_http.py sits next to this script; Python puts the script's directory first on sys.path,
# so this works whatever the working directory (the tests start the script by absolute path).
# No bytecode: importing it would otherwise leave a __pycache__ in the source tree on every test run.
sys.dont_write_bytecode = True
from standin_http import (BaseHandler, Shared, SlidingWindow, common_args, json_content_type_problem, serve,
                          strict_json)

NAME = "teams"

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
