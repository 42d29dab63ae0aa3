#!/usr/bin/env python3
"""A strict PagerDuty Events API v2 stand-in for tests (docs: /work/shared/design/CONTRACTS.md, section 2).

Contract enforced:
  POST /v2/enqueue only (other paths, /v2/change/enqueue included -> 404; other methods -> 405), JSON
  (Content-Type application/json, charset utf-8 allowed). No auth header: routing_key is the credential.
  400 {"status":"invalid event","message":"Event object is invalid","errors":[...every problem...]} for:
    wrong Content-Type, body > 512 KB (524288 bytes), not UTF-8 JSON, not an object, routing_key
    missing / not a string / length != 32 ("Length of 'routing_key' is incorrect (should be 32
    characters)"), event_action not trigger/acknowledge/resolve, dedup_key not a string / blank / > 255,
    acknowledge or resolve without dedup_key, trigger without payload or payload.summary (1..1024),
    payload.source, payload.severity (critical/error/warning/info), payload.timestamp present but not an
    ISO-8601 date-time with a UTC offset (2015-07-17T08:42:58.315+0000, ...Z, ...+00:00), component/
    group/class/client/client_url not strings, custom_details not an object, links/images not arrays of
    objects, links[] without href, images[] without an https:// src.
  202 {"status":"success","message":"Event processed","dedup_key":K}; K = uuid4 hex when a trigger has none.
  Rate limit per routing_key: 120 events per 60 s sliding window (--rate-limit, --rate-window): 429
    {"status":"throttle exceeded","message":"Requests for this service are arriving too quickly. Please
    retry later."}, no Retry-After (PD sends none). Every event with a well-formed routing_key that is
    not itself throttled counts, valid or not; the check comes before the field checks.
  Alert state per (routing_key, dedup_key), for valid events only: a trigger on a new or resolved key
    opens an incident (status "triggered", incidents += 1), a trigger on an open one is a duplicate;
    acknowledge -> "acknowledged", resolve -> "resolved"; acknowledge/resolve of an unknown or resolved
    key is still answered 202 but dropped. The log entry's "outcome" says which: opened, duplicate,
    acknowledged, resolved, dropped (null when not applied).
Fields PD ignores (payload/links/images/client on acknowledge/resolve, unknown top-level fields) do not
make the event invalid; they are listed in the entry's "notes".

Control interface (test-only, under /_):
  GET  /_log     -> {"requests": [entry, ...], "scripts": {...}}; entry: {"path", "query", "method",
                    "at_ms", "status" (0 = reset/client gone, null while hanging), "valid", "problems",
                    "notes", "body", "body_bytes", "headers" (lower-case), "scripted", "outcome"}
  GET  /_alerts  -> {"alerts": [{"routing_key", "dedup_key", "status", "incidents", "triggers",
                    "duplicates", "dropped", "events": [event_action, ...every valid event for the key,
                    dropped ones included], "last_payload"}],
                    "dropped_unknown": [{"routing_key", "dedup_key", "event_action"}]}
  POST /_clear   -> empties log, scripts, alerts and rate-limit windows; 204
  POST /_script  {"key": ROUTING_KEY, "answers": ["500", "429", "hang:2", "reset", ...]} -> the next
                 events with that routing_key (read from the JSON body) get these answers in order;
                 appended to any pending ([] clears); 204, 400 if malformed. "STATUS" only (the body is
                 made here: 202 success, 400 invalid event, 429 throttle, 5xx {"status":"unavailable",
                 "message":...,"errors":[...]}), "429:SECONDS" (adds Retry-After), "hang:SECONDS"
                 (wait, then normal), "reset" (SO_LINGER 0 close). Scripted answers skip the state and
                 the rate limit, and are used even when the event is invalid.

  pagerduty_standin.py [--port 0] [--port-file PATH] [--rate-limit 120] [--rate-window 60] [--no-parent-watch]
Prints "pagerduty stand-in on 127.0.0.1:PORT" once listening; PATH gets the port (written atomically).
"""
import argparse
import datetime
import json
import re
import sys
import time
import uuid

# standin_http.py sits next to this script; Python puts the script's directory first on sys.path,
# so this works whatever the working directory (the tests start the script by absolute path).
# No bytecode: importing it would otherwise leave a __pycache__ in the source tree on every test run.
sys.dont_write_bytecode = True
from standin_http import (BaseHandler, Shared, SlidingWindow, common_args, json_content_type_problem, serve,
                          strict_json)

NAME = "pagerduty"

# ---------------------------------------------------------------- PagerDuty

ENQUEUE = "/v2/enqueue"
MAX_BODY = 512 * 1024
ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
TS_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
                   r"(Z|[+-]\d{2}(?::?\d{2})?)$")
KNOWN_FIELDS = ("routing_key", "event_action", "dedup_key", "payload", "client", "client_url", "links",
                "images")
PAYLOAD_FIELDS = ("summary", "source", "severity", "timestamp", "component", "group", "class",
                  "custom_details")
INVALID = {"status": "invalid event", "message": "Event object is invalid"}
THROTTLED = {"status": "throttle exceeded",
             "message": "Requests for this service are arriving too quickly. Please retry later."}


def iso8601_ok(value):
    m = TS_RE.match(value)
    if not m:
        return False
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in m.groups()[:6])
    try:
        datetime.datetime(year, month, day, hour, minute, min(second, 59))
    except ValueError:
        return False
    offset = m.group(8)
    if offset != "Z":
        digits = offset[1:].replace(":", "")
        if int(digits[:2]) > 23 or (len(digits) > 2 and int(digits[2:]) > 59) or len(digits) not in (2, 4):
            return False
    return second <= 60


def check_string(errors, where, obj, name, required=False, max_len=None):
    if name not in obj:
        if required:
            errors.append("'%s.%s' is missing" % (where, name) if where else "'%s' is missing" % name)
        return
    label = "%s.%s" % (where, name) if where else name
    value = obj[name]
    if not isinstance(value, str):
        errors.append("'%s' must be a string" % label)
    elif required and not value.strip():
        errors.append("'%s' must not be blank" % label)
    elif max_len is not None and len(value) > max_len:
        errors.append("'%s' is too long (%d characters, maximum %d)" % (label, len(value), max_len))


def validate(method, headers, raw):
    """-> (front-door errors, field errors, notes, body, routing_key or None)"""
    front, errors, notes, body, key = [], [], [], None, None
    if method != "POST":
        front.append("method %s not allowed (POST only)" % method)
    problem = json_content_type_problem(headers.get("content-type"))
    if problem:
        front.append(problem)
    if len(raw) > MAX_BODY:
        front.append("Event object is too large (%d bytes, maximum %d)" % (len(raw), MAX_BODY))
    try:
        body = strict_json(raw)
    except ValueError as e:
        front.append("Event object is not valid UTF-8 JSON (%s)" % e)
        return front, errors, notes, None, None
    if not isinstance(body, dict):
        front.append("Event object must be a JSON object")
        return front, errors, notes, body, None
    rk = body.get("routing_key")
    if "routing_key" not in body:
        front.append("'routing_key' is missing")
    elif not isinstance(rk, str):
        front.append("'routing_key' must be a string")
    else:
        key = rk
        if len(rk) != 32:
            front.append("Length of 'routing_key' is incorrect (should be 32 characters)")
    action = body.get("event_action")
    if "event_action" not in body:
        errors.append("'event_action' is missing")
    elif action not in ACTIONS:
        errors.append("'event_action' must be one of trigger, acknowledge, resolve (got %s)" % json.dumps(action))
    if "dedup_key" in body:
        dk = body["dedup_key"]
        if not isinstance(dk, str):
            errors.append("'dedup_key' must be a string")
        elif not dk.strip():
            errors.append("'dedup_key' must not be blank")
        elif len(dk) > 255:
            errors.append("'dedup_key' is too long (%d characters, maximum 255)" % len(dk))
    elif action in ("acknowledge", "resolve"):
        errors.append("'dedup_key' is required for acknowledge and resolve events")
    if action == "trigger":
        payload = body.get("payload")
        if "payload" not in body:
            errors.append("'payload' is missing (required for trigger)")
        elif not isinstance(payload, dict):
            errors.append("'payload' must be an object")
        else:
            check_string(errors, "payload", payload, "summary", required=True, max_len=1024)
            check_string(errors, "payload", payload, "source", required=True)
            if "severity" not in payload:
                errors.append("'payload.severity' is missing")
            elif payload["severity"] not in SEVERITIES:
                errors.append("'payload.severity' must be one of critical, error, warning, info (got %s)"
                              % json.dumps(payload["severity"]))
            if "timestamp" in payload:
                ts = payload["timestamp"]
                if not isinstance(ts, str) or not iso8601_ok(ts):
                    errors.append("'payload.timestamp' is not an ISO-8601 date-time with offset: %s" % json.dumps(ts))
            for name in ("component", "group", "class"):
                check_string(errors, "payload", payload, name)
            if "custom_details" in payload and not isinstance(payload["custom_details"], dict):
                errors.append("'payload.custom_details' must be an object")
            for name in payload:
                if name not in PAYLOAD_FIELDS:
                    notes.append("unknown payload field %r" % name)
        for name in ("client", "client_url"):
            check_string(errors, "", body, name)
        if "links" in body:
            links = body["links"]
            if not isinstance(links, list):
                errors.append("'links' must be an array")
            else:
                for i, link in enumerate(links):
                    if not isinstance(link, dict):
                        errors.append("'links[%d]' must be an object" % i)
                        continue
                    check_string(errors, "links[%d]" % i, link, "href", required=True)
                    check_string(errors, "links[%d]" % i, link, "text")
        if "images" in body:
            images = body["images"]
            if not isinstance(images, list):
                errors.append("'images' must be an array")
            else:
                for i, image in enumerate(images):
                    if not isinstance(image, dict):
                        errors.append("'images[%d]' must be an object" % i)
                        continue
                    if "src" not in image:
                        errors.append("'images[%d].src' is missing" % i)
                    elif not isinstance(image["src"], str) or not image["src"].startswith("https://"):
                        errors.append("'images[%d].src' must be an https:// URL (got %s)"
                                      % (i, json.dumps(image["src"])))
                    check_string(errors, "images[%d]" % i, image, "href")
                    check_string(errors, "images[%d]" % i, image, "alt")
    elif action in ("acknowledge", "resolve"):
        for name in ("payload", "client", "client_url", "links", "images"):
            if name in body:
                notes.append("%r is ignored on %s" % (name, action))
    for name in body:
        if name not in KNOWN_FIELDS:
            notes.append("unknown top-level field %r" % name)
    return front, errors, notes, body, key


def make_handler(args):
    shared = Shared()
    window = SlidingWindow(args.rate_limit, args.rate_window)
    alerts = {}  # (routing_key, dedup_key) -> alert dict, in creation order
    dropped_unknown = []

    def apply(body):
        """Apply a valid event to the alert state -> (outcome, dedup_key). Caller holds the lock."""
        action = body["event_action"]
        rk = body["routing_key"]
        dk = body.get("dedup_key") or uuid.uuid4().hex
        alert = alerts.get((rk, dk))
        if action == "trigger":
            if alert is None:
                alert = alerts[(rk, dk)] = {"routing_key": rk, "dedup_key": dk, "status": "triggered",
                                            "incidents": 0, "triggers": 0, "duplicates": 0, "dropped": 0,
                                            "events": [], "last_payload": None}
            alert["triggers"] += 1
            alert["events"].append(action)
            alert["last_payload"] = body.get("payload")
            if alert["incidents"] == 0 or alert["status"] == "resolved":
                alert["incidents"] += 1
                alert["status"] = "triggered"
                return "opened", dk
            alert["duplicates"] += 1
            return "duplicate", dk
        if alert is None:
            dropped_unknown.append({"routing_key": rk, "dedup_key": dk, "event_action": action})
            return "dropped", dk
        alert["events"].append(action)
        if alert["status"] == "resolved":
            alert["dropped"] += 1
            return "dropped", dk
        alert["status"] = "acknowledged" if action == "acknowledge" else "resolved"
        return alert["status"], dk

    class Handler(BaseHandler):
        def clear_state(self):
            window.clear()
            alerts.clear()
            dropped_unknown.clear()

        def extra_control(self, method, path):
            if path != "/_alerts":
                return False
            if method != "GET":
                self.send_json(405, {"error": "GET only"}, {"Allow": "GET"})
                return True
            with shared.lock:
                body = json.dumps({"alerts": list(alerts.values()), "dropped_unknown": dropped_unknown}).encode()
            self.send(200, body, "application/json; charset=utf-8")
            return True

        def service(self, method, path, query, headers, raw, at_ms):
            entry = self.new_entry(method, path, query, headers, at_ms, raw)
            entry["outcome"] = None
            if path != ENQUEUE:
                entry["problems"].append("unknown path %s (only %s)" % (path, ENQUEUE))
                doc = {"status": "not found", "message": "No such endpoint: %s" % path, "errors": []}
                return self.run(entry, None, lambda: (404, json.dumps(doc).encode(),
                                                      "application/json; charset=utf-8", None))
            front, errors, notes, body, key = validate(method, headers, raw)
            entry.update(problems=front + errors, notes=notes, body=body)

            def normal():
                if method != "POST":
                    doc = {"status": "method not allowed", "message": "Use POST", "errors": front[:1]}
                    return 405, json.dumps(doc).encode(), "application/json; charset=utf-8", {"Allow": "POST"}
                if front:
                    return self.invalid(front + errors)
                with shared.lock:
                    wait = window.take(key, time.monotonic())
                if wait:
                    return 429, json.dumps(THROTTLED).encode(), "application/json; charset=utf-8", None
                if errors:
                    return self.invalid(errors)
                with shared.lock:
                    outcome, dk = apply(body)
                    entry["outcome"] = outcome
                doc = {"status": "success", "message": "Event processed", "dedup_key": dk}
                return 202, json.dumps(doc).encode(), "application/json; charset=utf-8", None

            self.run(entry, key, normal)

        def invalid(self, errors):
            doc = dict(INVALID, errors=errors)
            return 400, json.dumps(doc).encode(), "application/json; charset=utf-8", None

        def scripted_answer(self, answer, entry):
            status = answer["status"]
            headers = None
            if answer["retry_after"] is not None:
                headers = {"Retry-After": str(answer["retry_after"])}
            if status < 300:
                body = entry["body"] if isinstance(entry["body"], dict) else {}
                dk = body.get("dedup_key") if isinstance(body.get("dedup_key"), str) else uuid.uuid4().hex
                doc = {"status": "success", "message": "Event processed", "dedup_key": dk}
            elif status == 400:
                doc = dict(INVALID, errors=entry["problems"] or ["scripted 400"])
            elif status == 429:
                doc = THROTTLED
            elif status >= 500:
                doc = {"status": "unavailable", "message": "Service temporarily unavailable (scripted %d)" % status,
                       "errors": ["scripted %d" % status]}
            else:
                doc = {"status": "error", "message": "Scripted %d" % status, "errors": ["scripted %d" % status]}
            if status in (204, 304):
                return status, b"", None, headers
            return status, json.dumps(doc).encode(), "application/json; charset=utf-8", headers

    Handler.shared = shared
    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common_args(parser)
    parser.add_argument("--rate-limit", type=int, default=120, help="events per window per routing_key (120)")
    parser.add_argument("--rate-window", type=float, default=60.0, help="sliding window in seconds (60)")
    args = parser.parse_args()
    if args.rate_limit < 1 or args.rate_window <= 0:
        parser.error("--rate-limit must be >= 1 and --rate-window > 0")
    serve(make_handler(args), args, NAME)


if __name__ == "__main__":
    sys.exit(main())
