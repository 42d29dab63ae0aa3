#!/usr/bin/env python3
"""Self-test of the Slack, PagerDuty and Teams stand-ins (slack_standin.py, pagerduty_standin.py,
teams_standin.py in this directory) and of the SMTP server's strictness (smtp_server.py, real aiosmtpd).

Starts each stand-in as a child process (--port 0 --port-file in a temporary directory), sends good and
bad requests over loopback and checks every answer and the /_log, /_alerts, /_script and /_clear control
interface. One line per check; exits 0 when all pass, 1 with "FAIL <check>: <why>" on the first failure.
Children are killed on every exit path; the whole run is bounded to 19 s (SIGALRM).

  python3 tests/standins/check_standins.py
"""
import atexit
import http.client
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CHILDREN = []
COUNT = [0]


class CheckFailed(Exception):
    pass


def kill_children():
    for proc in CHILDREN:
        if proc.poll() is None:
            proc.kill()
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
    CHILDREN.clear()


def on_signal(signum, frame):
    if signum == signal.SIGALRM:
        raise CheckFailed("self-test took longer than 19 s")
    raise SystemExit(128 + signum)


def check(name, condition, detail=""):
    if not condition:
        raise CheckFailed("%s: %s" % (name, detail))
    COUNT[0] += 1
    print("ok   %s" % name, flush=True)


def start(script, tmp, *extra):
    port_file = os.path.join(tmp, script + ".port")
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, script), "--port", "0",
                             "--port-file", port_file] + list(extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    CHILDREN.append(proc)
    deadline = time.monotonic() + 5
    while not os.path.exists(port_file):
        if proc.poll() is not None:
            raise CheckFailed("%s exited with %s: %s" % (script, proc.returncode, proc.stderr.read().decode()))
        if time.monotonic() > deadline:
            raise CheckFailed("%s did not write its port file within 5 s" % script)
        time.sleep(0.02)
    with open(port_file) as f:
        port = int(f.read())
    readable, _, _ = select.select([proc.stdout], [], [], 2)
    line = proc.stdout.readline().decode().strip() if readable else ""
    label = script.split("_")[0]
    check("%s: starts, announces \"%s stand-in on 127.0.0.1:PORT\"" % (script, label),
          line == "%s stand-in on 127.0.0.1:%d" % (label, port), repr(line))
    return port


class Client:
    def __init__(self, port):
        self.port = port
        self.conn = None

    def request(self, method, path, body=None, headers=None, ctype="application/json", keep=False, timeout=5):
        """-> (status, {lower-case header: value}, body bytes, elapsed s). body: dict/list -> JSON, str/bytes raw."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        hdrs = dict(headers or {})
        if body is not None and ctype and "Content-Type" not in hdrs:
            hdrs["Content-Type"] = ctype
        conn = self.conn if keep and self.conn else http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        started = time.monotonic()
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
        except Exception:
            conn.close()
            self.conn = None
            raise
        if keep:
            self.conn = conn
        else:
            conn.close()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, time.monotonic() - started

    def json(self, method, path, body=None):
        status, _, data, _ = self.request(method, path, body)
        return status, json.loads(data) if data else None

    def log(self):
        status, doc = self.json("GET", "/_log")
        if status != 200:
            raise CheckFailed("GET /_log answered %d" % status)
        return doc["requests"]

    def script(self, key, answers):
        status, _, data, _ = self.request("POST", "/_script", {"key": key, "answers": answers})
        if status != 204:
            raise CheckFailed("POST /_script answered %d %s" % (status, data))

    def reset_expected(self, method, path, body):
        try:
            status, _, _, _ = self.request(method, path, body)
        except (ConnectionResetError, http.client.RemoteDisconnected, ConnectionAbortedError, BrokenPipeError):
            return True
        return "answered %d" % status


# ---------------------------------------------------------------- Slack

def check_slack(tmp):
    c = Client(start("slack_standin.py", tmp))
    n = [0]

    def url():  # a fresh webhook URL (own rate bucket) per use
        n[0] += 1
        return "/services/T0TEAM%d/B0HOOK%d/%s" % (n[0], n[0], ("s%023d" % n[0]))

    def post(body, path=None, **kw):
        return c.request("POST", path or url(), body, **kw)

    st, h, b, _ = post({"text": "CPU high on *srv01*"})
    check("slack: valid text message -> 200 text/plain ok",
          st == 200 and b == b"ok" and h.get("content-type", "").startswith("text/plain"), (st, b, h))
    rich = {"text": "fallback", "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "Alert", "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*srv01* is down"},
         "fields": [{"type": "mrkdwn", "text": "*Severity*\ncritical"}] * 10},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "pulse"}]},
        {"type": "divider"}],
        "attachments": [{"color": "#FF0000", "blocks": [{"type": "section", "text": {"type": "plain_text", "text": "x"}}]},
                        {"color": "danger", "fallback": "f", "fields": [{"title": "a", "value": "b", "short": True}]}]}
    st, _, b, _ = post(rich)
    check("slack: header+section(10 fields)+context+divider+attachments -> 200 ok", st == 200 and b == b"ok", (st, b))
    st, _, b, _ = post(dict(rich, blocks=[{"type": "divider"}] * 50))
    check("slack: exactly 50 blocks -> 200", st == 200, (st, b))

    st, _, b, _ = post({"text": "x"}, path="/services/T1/B2/short")
    check("slack: unknown path shape -> 404 no_service", st == 404 and b == b"no_service", (st, b))
    st, h, b, _ = c.request("GET", url())
    check("slack: GET on a webhook URL -> 405", st == 405 and h.get("allow") == "POST", (st, b))

    bad = [
        ("body not JSON", "{text: 'x'", 400, b"invalid_payload"),
        ("body a JSON array", [1, 2], 400, b"invalid_payload"),
        ("empty object", {}, 400, b"no_text"),
        ("empty text only", {"text": ""}, 400, b"no_text"),
        ("text not a string", {"text": 5}, 400, b"invalid_payload"),
        ("51 blocks", {"text": "t", "blocks": [{"type": "divider"}] * 51}, 400, b"invalid_blocks"),
        ("unknown block type", {"blocks": [{"type": "table"}]}, 400, b"invalid_blocks"),
        ("header 151 chars", {"blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]},
         400, b"invalid_blocks"),
        ("header mrkdwn", {"blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}]}, 400, b"invalid_blocks"),
        ("section text 3001", {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "s" * 3001}}]},
         400, b"invalid_blocks"),
        ("section text a bare string", {"blocks": [{"type": "section", "text": "plain"}]}, 400, b"invalid_blocks"),
        ("section 11 fields", {"blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}]},
         400, b"invalid_blocks"),
        ("section field 2001", {"blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}]},
         400, b"invalid_blocks"),
        ("context 11 elements", {"blocks": [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}]},
         400, b"invalid_blocks"),
        ("101 attachments", {"attachments": [{"text": "a"}] * 101}, 400, b"too_many_attachments"),
        ("attachment color 'red'", {"attachments": [{"color": "red", "text": "a"}]}, 400, b"invalid_payload"),
        ("attachment with 51 blocks", {"attachments": [{"blocks": [{"type": "divider"}] * 51}]}, 400, b"invalid_blocks"),
    ]
    for name, body, want_status, want_body in bad:
        st, _, b, _ = post(body)
        check("slack: %s -> %d %s" % (name, want_status, want_body.decode()), st == want_status and b == want_body,
              (st, b))
    st, _, b, _ = post({"text": "x"}, ctype="text/plain")
    check("slack: Content-Type text/plain -> 400 invalid_payload", st == 400 and b == b"invalid_payload", (st, b))
    st, _, b, _ = post({"text": "x"}, ctype="application/json; charset=utf-8")
    check("slack: Content-Type with charset=utf-8 -> 200", st == 200, (st, b))

    long_url = url()
    st, _, b, _ = post({"text": "x" * 40001}, path=long_url)
    entry = [e for e in c.log() if e["path"] == long_url][-1]
    check("slack: text of 40001 chars -> 200 ok but logged invalid with 'text truncated'",
          st == 200 and b == b"ok" and entry["valid"] is False and "text truncated" in entry["problems"],
          (st, b, entry["problems"]))

    chunk_url = url()
    conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=5)
    conn.request("POST", chunk_url, body=iter([b'{"te', b'xt":"chunked"}']),
                 headers={"Content-Type": "application/json"}, encode_chunked=True)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    entry = [e for e in c.log() if e["path"] == chunk_url][-1]
    check("slack: chunked request body -> 200 and parsed body logged",
          resp.status == 200 and data == b"ok" and entry["body"] == {"text": "chunked"}, (resp.status, data, entry))

    # rate limit: capacity 3, refill 1/s
    rl = url()
    answers = [post({"text": "r%d" % i}, path=rl, keep=True) for i in range(4)]
    check("slack: burst of 3 on one URL -> 200", [a[0] for a in answers[:3]] == [200, 200, 200],
          [a[0] for a in answers])
    st, h, b, _ = answers[3]
    retry = h.get("retry-after", "")
    check("slack: 4th within a second -> 429 rate_limited with integer Retry-After >= 1",
          st == 429 and b == b"rate_limited" and retry.isdigit() and int(retry) >= 1, (st, b, h))
    st, _, _, _ = post({"text": "other"})
    check("slack: the limit is per URL (another URL still 200)", st == 200, st)
    time.sleep(int(retry) + 0.05)
    st, _, b, _ = post({"text": "after"}, path=rl, keep=True)
    check("slack: after Retry-After seconds -> 200 again", st == 200, (st, b))
    entry = [e for e in c.log() if e["path"] == rl][3]
    check("slack: rate-limited request logged with status 429 (and valid, the body was fine)",
          entry["status"] == 429 and entry["valid"] is True, entry)

    # scripted answers
    sp = url()
    c.script(sp, ["500", "404:channel_not_found", "410:channel_is_archived", "403:action_prohibited",
                  "429:7", "200:not_ok"])
    c.script(sp, ["reset", "hang:0.4"])
    got = [post({"text": "s"}, path=sp)[:3] for _ in range(6)]
    want = [(500, b"rollup_error"), (404, b"channel_not_found"), (410, b"channel_is_archived"),
            (403, b"action_prohibited"), (429, b"rate_limited"), (200, b"not_ok")]
    check("slack: scripted 500/404/410/403/429/200:not_ok answered in order",
          [(s, b) for s, _, b in got] == want, [(s, b) for s, _, b in got])
    check("slack: scripted 429:7 -> Retry-After: 7", got[4][1].get("retry-after") == "7", got[4][1])
    result = c.reset_expected("POST", sp, {"text": "s"})
    check("slack: scripted reset closes the connection without an answer", result is True, result)
    st, _, b, elapsed = post({"text": "s"}, path=sp)
    check("slack: scripted hang:0.4 -> answers normally after >= 0.4 s", st == 200 and b == b"ok" and elapsed >= 0.4,
          (st, b, elapsed))
    st, _, b, _ = post({"text": "s"}, path=sp)
    check("slack: script exhausted -> normal 200 ok", st == 200 and b == b"ok", (st, b))
    c.script(sp, ["410"])
    st, _, b, _ = post("not json", path=sp)
    entry = c.log()[-1]
    check("slack: scripted answer consumed by an invalid request, logged valid=false",
          st == 410 and b == b"channel_is_archived" and entry["valid"] is False and entry["scripted"] == "410"
          and entry["status"] == 410 and entry["problems"], (st, b, entry))
    for name, bad_script in (("answer 'abc'", {"key": sp, "answers": ["abc"]}),
                             ("answers a string", {"key": sp, "answers": "500"}),
                             ("no key", {"answers": ["500"]}),
                             ("answer 'hang:x'", {"key": sp, "answers": ["hang:x"]}),
                             ("answer '99'", {"key": sp, "answers": ["99"]}),
                             ("not JSON", "key=x")):
        st, _, _, _ = c.request("POST", "/_script", bad_script)
        check("slack: malformed script (%s) -> 400" % name, st == 400, st)

    # the log
    log = c.log()
    sp_entries = [e for e in log if e["path"] == sp]
    check("slack: /_log has every request on the scripted URL in order with its status",
          [e["status"] for e in sp_entries] == [500, 404, 410, 403, 429, 200, 0, 200, 200, 410],
          [e["status"] for e in sp_entries])
    keys = {"path", "method", "at_ms", "status", "valid", "problems", "body", "headers"}
    check("slack: log entries carry path/method/at_ms/status/valid/problems/body/headers",
          all(keys <= set(e) for e in log), set(log[0]))
    check("slack: at_ms are floats in arrival order, headers lower-case",
          all(isinstance(e["at_ms"], float) for e in log)
          and all(a["at_ms"] <= b["at_ms"] for a, b in zip(log, log[1:]))
          and all(k == k.lower() for e in log for k in e["headers"]), "")
    check("slack: log keeps parsed body and the 405/404 requests",
          any(e["method"] == "GET" and e["status"] == 405 for e in log)
          and any(e["status"] == 404 and e["body"] == {"text": "x"} for e in log), "")

    st, _, _, _ = c.request("POST", "/_clear")
    check("slack: POST /_clear -> 204 and an empty log", st == 204 and c.log() == [], st)
    results = [post({"text": "c"}, path=rl, keep=True)[0] for _ in range(3)]
    check("slack: /_clear also refills the rate buckets", results == [200, 200, 200], results)
    c.script(sp, ["500"])
    c.request("POST", "/_clear")
    st, _, _, _ = post({"text": "c"}, path=sp)
    check("slack: /_clear drops pending scripts", st == 200, st)


# ---------------------------------------------------------------- PagerDuty

RK = "R0UT1NGKEY0000000000000000000001"
HEX32 = re.compile(r"^[0-9a-f]{32}$")


def check_pagerduty(tmp):
    c = Client(start("pagerduty_standin.py", tmp))
    enq = "/v2/enqueue"

    def trigger(**over):
        event = {"routing_key": RK, "event_action": "trigger", "dedup_key": "srv01/HTTP",
                 "payload": {"summary": "HTTP down on srv01", "source": "srv01.example.com", "severity": "critical",
                             "timestamp": "2015-07-17T08:42:58.315+0000", "component": "nginx",
                             "custom_details": {"latency_ms": 1200}},
                 "links": [{"href": "https://pulse.example/a/1", "text": "Alert"}],
                 "images": [{"src": "https://pulse.example/g.png", "alt": "graph"}]}
        for k, v in over.items():
            if v is None:
                event.pop(k, None)
            else:
                event[k] = v
        return event

    st, h, b, _ = c.request("POST", enq, trigger())
    doc = json.loads(b)
    check("pagerduty: valid trigger -> 202 success with its dedup_key",
          st == 202 and doc == {"status": "success", "message": "Event processed", "dedup_key": "srv01/HTTP"}
          and h.get("content-type", "").startswith("application/json"), (st, b))
    st, _, b, _ = c.request("POST", enq, trigger(dedup_key=None))
    doc = json.loads(b)
    check("pagerduty: trigger without dedup_key -> 202 with generated uuid4 hex",
          st == 202 and HEX32.match(doc.get("dedup_key", "")), (st, b))
    for ts in ("2024-01-31T23:59:59Z", "2024-01-31T23:59:59.123+01:00", "2024-01-31T23:59+0530"):
        st, _, b, _ = c.request("POST", enq, trigger(dedup_key="ts", payload={
            "summary": "s", "source": "h", "severity": "info", "timestamp": ts}))
        check("pagerduty: timestamp %s accepted" % ts, st == 202, (st, b))

    def p(**kw):
        base = {"summary": "s", "source": "h", "severity": "warning"}
        base.update(kw)
        return {k: v for k, v in base.items() if v is not None}

    bad = [
        ("body not JSON", "routing_key=x", "not valid UTF-8 JSON"),
        ("routing_key missing", trigger(routing_key=None), "'routing_key' is missing"),
        ("routing_key 31 chars", trigger(routing_key=RK[:31]),
         "Length of 'routing_key' is incorrect (should be 32 characters)"),
        ("event_action 'alert'", trigger(event_action="alert"), "'event_action' must be one of"),
        ("trigger without payload", trigger(payload=None), "'payload' is missing"),
        ("payload.summary missing", trigger(payload=p(summary=None)), "'payload.summary' is missing"),
        ("payload.source missing", trigger(payload=p(source=None)), "'payload.source' is missing"),
        ("payload.severity missing", trigger(payload=p(severity=None)), "'payload.severity' is missing"),
        ("severity 'high'", trigger(payload=p(severity="high")), "'payload.severity' must be one of"),
        ("summary 1025 chars", trigger(payload=p(summary="s" * 1025)), "'payload.summary' is too long"),
        ("dedup_key 256 chars", trigger(dedup_key="d" * 256), "'dedup_key' is too long"),
        ("dedup_key a number", trigger(dedup_key=42), "'dedup_key' must be a string"),
        ("image src http://", trigger(images=[{"src": "http://x/g.png"}]), "'images[0].src' must be an https:// URL"),
        ("link without href", trigger(links=[{"text": "t"}]), "'links[0].href' is missing"),
        ("timestamp not ISO-8601", trigger(payload=p(timestamp="17/07/2015 08:42")), "'payload.timestamp' is not"),
        ("timestamp without offset", trigger(payload=p(timestamp="2015-07-17T08:42:58")), "'payload.timestamp' is not"),
        ("acknowledge without dedup_key", {"routing_key": RK, "event_action": "acknowledge"},
         "'dedup_key' is required for acknowledge and resolve"),
        ("body > 512 KB", trigger(payload=p(custom_details={"blob": "x" * (512 * 1024)})), "too large"),
    ]
    for name, body, want in bad:
        st, _, b, _ = c.request("POST", enq, body)
        try:
            doc = json.loads(b)
        except ValueError:
            doc = {}
        check("pagerduty: %s -> 400 invalid event (%s)" % (name, want[:40]),
              st == 400 and doc.get("status") == "invalid event" and doc.get("message") == "Event object is invalid"
              and any(want in e for e in doc.get("errors", [])), (st, b[:300]))
    st, _, b, _ = c.request("POST", enq, trigger(), ctype="text/plain")
    check("pagerduty: Content-Type text/plain -> 400", st == 400, (st, b))
    st, h, b, _ = c.request("GET", enq)
    check("pagerduty: GET /v2/enqueue -> 405", st == 405, (st, b))
    st, _, b, _ = c.request("POST", "/v2/change/enqueue", trigger())
    check("pagerduty: other paths (/v2/change/enqueue) -> 404", st == 404, (st, b))

    # state: trigger -> duplicate -> acknowledge -> resolve -> dropped resolve -> trigger (new incident)
    c.request("POST", "/_clear")
    key2 = "R0UT1NGKEY0000000000000000000002"
    seq = [trigger(dedup_key="disk/srv02"), trigger(dedup_key="disk/srv02"),
           {"routing_key": RK, "event_action": "acknowledge", "dedup_key": "disk/srv02"},
           {"routing_key": RK, "event_action": "resolve", "dedup_key": "disk/srv02"},
           {"routing_key": RK, "event_action": "resolve", "dedup_key": "disk/srv02"},
           {"routing_key": RK, "event_action": "acknowledge", "dedup_key": "disk/srv02"},
           trigger(dedup_key="disk/srv02"),
           {"routing_key": RK, "event_action": "resolve", "dedup_key": "never-triggered"},
           {"routing_key": key2, "event_action": "acknowledge", "dedup_key": "disk/srv02"}]
    statuses = [c.request("POST", enq, e, keep=True)[0] for e in seq]
    check("pagerduty: trigger, dup, ack, resolve, resolve, ack, trigger, 2 unknown -> all 202",
          statuses == [202] * len(seq), statuses)
    outcomes = [e["outcome"] for e in c.log()]
    check("pagerduty: outcomes opened/duplicate/acknowledged/resolved/dropped/dropped/opened/dropped/dropped",
          outcomes == ["opened", "duplicate", "acknowledged", "resolved", "dropped", "dropped", "opened",
                       "dropped", "dropped"], outcomes)
    st, doc = c.json("GET", "/_alerts")
    alerts = doc["alerts"]
    a = alerts[0] if len(alerts) == 1 else {}
    check("pagerduty: /_alerts: one alert, status triggered, incidents 2, triggers 3, duplicates 1, dropped 2",
          st == 200 and a.get("routing_key") == RK and a.get("dedup_key") == "disk/srv02"
          and a.get("status") == "triggered" and a.get("incidents") == 2 and a.get("triggers") == 3
          and a.get("duplicates") == 1 and a.get("dropped") == 2, doc)
    check("pagerduty: /_alerts events list every event in order",
          a.get("events") == ["trigger", "trigger", "acknowledge", "resolve", "resolve", "acknowledge", "trigger"],
          a.get("events"))
    check("pagerduty: ack/resolve of unknown keys (incl. same dedup_key, other routing_key) listed as dropped",
          doc.get("dropped_unknown") == [
              {"routing_key": RK, "dedup_key": "never-triggered", "event_action": "resolve"},
              {"routing_key": key2, "dedup_key": "disk/srv02", "event_action": "acknowledge"}],
          doc.get("dropped_unknown"))

    # rate limit: 120 per 60 s per routing key
    rk3 = "R0UT1NGKEY0000000000000000000003"
    event = trigger(routing_key=rk3, dedup_key="rl")
    statuses = [c.request("POST", enq, event, keep=True)[0] for _ in range(120)]
    st, h, b, _ = c.request("POST", enq, event, keep=True)
    check("pagerduty: 120 events in a minute on one routing key -> 202", statuses == [202] * 120,
          sorted(set(statuses)))
    check("pagerduty: 121st -> 429 throttle body, no Retry-After",
          st == 429 and json.loads(b).get("status") == "throttle exceeded" and "retry-after" not in h, (st, b, h))
    st, _, b, _ = c.request("POST", enq, trigger(dedup_key="other-key-ok"))
    check("pagerduty: other routing keys are not throttled", st == 202, (st, b))

    # scripted answers (key = routing_key)
    rk4 = "R0UT1NGKEY0000000000000000000004"
    c.script(rk4, ["500", "503", "429", "429:30", "400"])
    c.script(rk4, ["reset", "hang:0.3"])
    got = [c.request("POST", enq, trigger(routing_key=rk4, dedup_key="sc")) for _ in range(5)]
    check("pagerduty: scripted 500, 503, 429, 429:30, 400 answered in order",
          [g[0] for g in got] == [500, 503, 429, 429, 400], [g[0] for g in got])
    d500 = json.loads(got[0][2])
    check("pagerduty: scripted 5xx body {status: unavailable, message, errors[]}",
          d500.get("status") == "unavailable" and d500.get("message") and isinstance(d500.get("errors"), list), d500)
    check("pagerduty: scripted 429 has no Retry-After, 429:30 has Retry-After: 30",
          "retry-after" not in got[2][1] and got[3][1].get("retry-after") == "30"
          and json.loads(got[2][2]).get("status") == "throttle exceeded", (got[2][1], got[3][1]))
    result = c.reset_expected("POST", enq, trigger(routing_key=rk4, dedup_key="sc"))
    check("pagerduty: scripted reset closes the connection", result is True, result)
    st, _, b, elapsed = c.request("POST", enq, trigger(routing_key=rk4, dedup_key="sc"))
    check("pagerduty: scripted hang:0.3 -> normal 202 after >= 0.3 s", st == 202 and elapsed >= 0.3, (st, elapsed))
    st, doc = c.json("GET", "/_alerts")
    sc = [x for x in doc["alerts"] if x["routing_key"] == rk4]
    check("pagerduty: scripted (non-hang) answers do not touch alert state",
          len(sc) == 1 and sc[0]["triggers"] == 1, sc)
    c.script(rk4, ["502"])
    st, _, b, _ = c.request("POST", enq, {"routing_key": rk4, "event_action": "explode"})
    entry = c.log()[-1]
    check("pagerduty: script consumed by an invalid event, logged valid=false with the reason",
          st == 502 and entry["valid"] is False and entry["scripted"] == "502"
          and any("event_action" in x for x in entry["problems"]), (st, entry))
    st, _, _, _ = c.request("POST", "/_script", {"key": rk4, "answers": ["500:body"]})
    check("pagerduty: script STATUS:BODY is malformed here (STATUS only) -> 400", st == 400, st)

    log = c.log()
    rk4_entries = [e for e in log if isinstance(e["body"], dict) and e["body"].get("routing_key") == rk4]
    check("pagerduty: /_log statuses for the scripted key in order (reset logged as 0)",
          [e["status"] for e in rk4_entries] == [500, 503, 429, 429, 400, 0, 202, 502],
          [e["status"] for e in rk4_entries])
    check("pagerduty: /_log entries have headers and at_ms",
          all(e["headers"].get("content-type") is not None and isinstance(e["at_ms"], float) for e in rk4_entries), "")
    st, _, _, _ = c.request("POST", "/_clear")
    st2, doc = c.json("GET", "/_alerts")
    check("pagerduty: /_clear -> 204, log and alerts empty",
          st == 204 and c.log() == [] and doc == {"alerts": [], "dropped_unknown": []}, (st, doc))
    st, _, b, _ = c.request("POST", enq, event)
    check("pagerduty: /_clear resets the rate window", st == 202, (st, b))


# ---------------------------------------------------------------- Teams

def check_teams(tmp):
    c = Client(start("teams_standin.py", tmp))
    q = "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=AbC-dEf_123"
    n = [0]

    def wf(prefix=""):
        n[0] += 1
        return "%s/workflows/%032x/triggers/manual/paths/invoke" % (prefix, n[0])

    def card(**over):
        content = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
                   "version": "1.4", "body": [{"type": "TextBlock", "text": "CPU high", "wrap": True}],
                   "actions": [{"type": "Action.OpenUrl", "title": "Open", "url": "https://pulse.example/a/1"}]}
        content.update(over)
        return {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                                                    "contentUrl": None, "content": content}]}

    def last_entry(path):
        return [e for e in c.log() if e["path"] == path][-1]

    path = wf()
    st, h, b, _ = c.request("POST", path + q, card())
    e = last_entry(path)
    check("teams: valid card on logic.azure.com shape -> 202 empty body, logged valid",
          st == 202 and b == b"" and h.get("content-length") == "0" and e["valid"] is True, (st, b, e["problems"]))
    path2 = wf("/powerautomate/automations/direct")
    st, _, b, _ = c.request("POST", path2 + q.replace("2016-06-01", "1"), card(version="1.5"))
    check("teams: valid card on powerplatform.com shape -> 202", st == 202 and last_entry(path2)["valid"], (st, b))
    check("teams: log has workflow_id and decoded query params",
          last_entry(path2)["workflow_id"] == "%032x" % n[0] and last_entry(path2)["params"]["sp"] == "/triggers/manual/run",
          last_entry(path2))

    front = [
        ("sig missing", wf() + q.replace("&sig=AbC-dEf_123", ""), 401, "DirectApiAuthorizationRequired"),
        ("sig empty", wf() + q.replace("sig=AbC-dEf_123", "sig="), 401, "DirectApiAuthorizationRequired"),
        ("sp double-encoded", wf() + q.replace("%2F", "%252F"), 401, "DirectApiInvalidAuthorizationSignature"),
        ("api-version missing", wf() + q.replace("api-version=2016-06-01&", ""), 400, "MissingApiVersionParameter"),
        ("legacy webhookb2 connector URL",
         "/webhookb2/0f1e@7a2b/IncomingWebhook/abc/9f8e" + q, 404, "ConnectorRetired"),
        ("unknown path", "/workflows/abc/triggers/manual/run" + q, 404, "WorkflowNotFound"),
    ]
    for name, target, want_status, want_code in front:
        st, _, b, _ = c.request("POST", target, card())
        try:
            code = json.loads(b)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = None
        check("teams: %s -> %d %s" % (name, want_status, want_code), st == want_status and code == want_code, (st, b))
    st, _, b, _ = c.request("POST", "/webhookb2/0f1e@7a2b/IncomingWebhook/abc/9f8e" + q, card())
    check("teams: legacy connector 404 says connectors are retired", b"retired" in b, b)
    st, h, b, _ = c.request("GET", wf() + q)
    check("teams: GET -> 405", st == 405 and h.get("allow") == "POST", (st, b))

    invalid = [
        ("Action.Submit in actions", card(actions=[{"type": "Action.Submit", "title": "Ack"}]), "Action.Submit"),
        ("Action.Submit nested in ShowCard",
         card(actions=[{"type": "Action.ShowCard", "title": "More", "card": {"type": "AdaptiveCard", "body": [],
                                                                             "actions": [{"type": "Action.Submit"}]}}]),
         "Action.Submit at attachments[0].content.actions[0].card.actions[0]"),
        ("version 1.6", card(version="1.6"), "content.version '1.6'"),
        ("version as a number", card(version=1.4), "content.version must be a string"),
        ("card type not AdaptiveCard", card(type="MessageCard"), "content.type must be 'AdaptiveCard'"),
        ("body not an array", card(body={"type": "TextBlock"}), "content.body must be an array"),
        ("top-level type missing", {"attachments": card()["attachments"]}, 'top-level type must be "message"'),
        ("attachments missing", {"type": "message"}, "attachments must be a non-empty array"),
        ("attachments empty", {"type": "message", "attachments": []}, "attachments must be a non-empty array"),
        ("contentType wrong",
         {"type": "message", "attachments": [dict(card()["attachments"][0], contentType="application/json")]},
         "contentType must be"),
        ("content a JSON string",
         {"type": "message", "attachments": [dict(card()["attachments"][0],
                                                  content=json.dumps(card()["attachments"][0]["content"]))]},
         "content must be an Adaptive Card object"),
    ]
    for name, body, want in invalid:
        path = wf()
        st, _, b, _ = c.request("POST", path + q, body)
        e = last_entry(path)
        check("teams: invalid card (%s) -> 202, logged valid=false naming it" % name,
              st == 202 and b == b"" and e["valid"] is False and any(want in x for x in e["problems"]),
              (st, e["problems"]))
    path = wf()
    st, _, _, _ = c.request("POST", path + q, card(), ctype="text/plain")
    e = last_entry(path)
    check("teams: Content-Type text/plain -> 202 but logged invalid",
          st == 202 and not e["valid"] and any("Content-Type" in x for x in e["problems"]), e["problems"])
    st, _, b, _ = c.request("POST", wf() + q, "{not json")
    check("teams: unparsable JSON body -> 400 InvalidRequestContent",
          st == 400 and json.loads(b)["error"]["code"] == "InvalidRequestContent", (st, b))
    big = card(body=[{"type": "TextBlock", "text": "x" * (28 * 1024)}])
    path = wf()
    st, _, b, _ = c.request("POST", path + q, big)
    check("teams: body over 28 KB -> 413 with an error body",
          st == 413 and json.loads(b)["error"]["code"] == "MessageTooLarge" and not last_entry(path)["valid"], (st, b))

    # rate limit: 4 per second per workflow
    rl = wf()
    got = [c.request("POST", rl + q, card(), keep=True) for _ in range(5)]
    check("teams: 4 requests in a second on one workflow -> 202", [g[0] for g in got[:4]] == [202] * 4,
          [g[0] for g in got])
    check("teams: 5th -> 429 with Retry-After: 1", got[4][0] == 429 and got[4][1].get("retry-after") == "1",
          (got[4][0], got[4][1]))
    st, _, _, _ = c.request("POST", wf() + q, card())
    check("teams: other workflows are not throttled", st == 202, st)

    # scripted answers (key = path without query)
    sp = wf()
    c.script(sp, ["503", "429:3", "500", "200"])
    c.script(sp, ["reset", "hang:0.3"])
    got = [c.request("POST", sp + q, card()) for _ in range(4)]
    check("teams: scripted 503, 429:3, 500, 200 in order", [g[0] for g in got] == [503, 429, 500, 200],
          [g[0] for g in got])
    check("teams: scripted 429:3 -> Retry-After: 3; 503 has an error body",
          got[1][1].get("retry-after") == "3" and json.loads(got[0][2])["error"]["code"] == "ServiceUnavailable",
          (got[1][1], got[0][2]))
    result = c.reset_expected("POST", sp + q, card())
    check("teams: scripted reset closes the connection", result is True, result)
    st, _, b, elapsed = c.request("POST", sp + q, card())
    check("teams: scripted hang:0.3 -> 202 after >= 0.3 s", st == 202 and elapsed >= 0.3, (st, elapsed))
    c.script(sp, ["500"])
    st, _, _, _ = c.request("POST", sp + q.replace("&sig=AbC-dEf_123", ""), card(version="9"))
    e = last_entry(sp)
    check("teams: script consumed by an invalid request (no sig, bad card), logged valid=false",
          st == 500 and e["valid"] is False and e["scripted"] == "500"
          and any("sig" in x for x in e["problems"]) and any("version" in x for x in e["problems"]), (st, e))
    check("teams: /_log statuses for the scripted workflow in order",
          [x["status"] for x in c.log() if x["path"] == sp] == [503, 429, 500, 200, 0, 202, 500],
          [x["status"] for x in c.log() if x["path"] == sp])
    st, _, _, _ = c.request("POST", "/_clear")
    check("teams: /_clear -> 204 and empty log", st == 204 and c.log() == [], st)
    got = [c.request("POST", rl + q, card(), keep=True)[0] for _ in range(4)]
    check("teams: /_clear resets the rate window", got == [202] * 4, got)


# ---------------------------------------------------------------- SMTP (aiosmtpd)

def check_smtp(tmp):
    import smtplib
    import ssl
    c = Client(start("smtp_server.py", tmp, "--user", "u1", "--password", "p4ssw0rd-1"))
    _, info = c.json("GET", "/_info")
    ports = info["ports"]
    ca = os.path.join(tmp, "smtp-ca.pem")
    with open(ca, "w") as f:
        f.write(info["ca_pem"])
    tls = ssl.create_default_context(cafile=ca)
    good = ("Date: Wed, 02 Dec 2026 05:00:00 +0000\r\nFrom: a@example.com\r\nTo: b@example.com\r\n"
            "Subject: s\r\nMessage-ID: <m1@example.com>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/alternative; boundary=XX\r\n\r\n--XX\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n--XX\r\n"
            "Content-Type: text/html; charset=utf-8\r\n\r\n<p>hello</p>\r\n--XX--\r\n")

    s = smtplib.SMTP("127.0.0.1", ports["submission"], timeout=5)
    s.ehlo("client.example.com")
    check("smtp: submission offers STARTTLS and no AUTH before TLS",
          s.has_extn("starttls") and not s.has_extn("auth"), s.esmtp_features)
    code, _ = s.mail("a@example.com")
    check("smtp: MAIL before STARTTLS -> 530", code == 530, code)
    s.starttls(context=tls)
    s.ehlo("client.example.com")
    check("smtp: after STARTTLS, AUTH PLAIN and LOGIN are offered",
          "PLAIN" in s.esmtp_features.get("auth", "") and "LOGIN" in s.esmtp_features.get("auth", ""),
          s.esmtp_features)
    code, _ = s.mail("a@example.com")
    check("smtp: MAIL before AUTH -> 530", code == 530, code)
    try:
        s.login("u1", "wrong")
        check("smtp: a wrong password -> 535", False, "accepted")
    except smtplib.SMTPAuthenticationError as e:
        check("smtp: a wrong password -> 535", e.smtp_code == 535, e.smtp_code)
    s.login("u1", "p4ssw0rd-1")
    s.sendmail("a@example.com", ["b@example.com"], good)
    s.sendmail("a@example.com", ["b@example.com"], "Subject: bare\r\n\r\nno headers\r\n")
    s.quit()
    log = c.log()
    check("smtp: a complete message is logged valid, over TLS, as the login",
          log[0]["valid"] and log[0]["tls"] and log[0]["auth_login"] == "u1" and log[0]["status"] == 250, log[0])
    check("smtp: a message without Date/From/To/Message-ID/MIME parts is logged invalid with each problem",
          not log[1]["valid"] and {"no date header", "no message-id header", "no text/html part"}
          <= set(log[1]["problems"]), log[1]["problems"])

    c.script("fault@example.com", ["452", "550", "421"])
    s = smtplib.SMTP_SSL("127.0.0.1", ports["smtps"], timeout=5, context=tls)
    s.login("u1", "p4ssw0rd-1")
    for expected in (452, 550):
        try:
            s.sendmail("a@example.com", ["fault@example.com"], good)
            check("smtp: scripted %d at RCPT" % expected, False, "accepted")
        except smtplib.SMTPRecipientsRefused as e:
            check("smtp: scripted %d at RCPT (implicit TLS listener)" % expected,
                  e.recipients["fault@example.com"][0] == expected, e.recipients)
    try:
        s.sendmail("a@example.com", ["fault@example.com"], good)
        check("smtp: scripted 421 at DATA", False, "accepted")
    except (smtplib.SMTPDataError, smtplib.SMTPServerDisconnected) as e:
        check("smtp: scripted 421 at the end of DATA", getattr(e, "smtp_code", 421) == 421, e)
    c.script("drop@example.com", ["reset"])
    s = smtplib.SMTP("127.0.0.1", ports["plain"], timeout=5)
    try:
        s.sendmail("a@example.com", ["drop@example.com"], good)
        check("smtp: scripted reset drops the connection after DATA", False, "accepted")
    except (smtplib.SMTPServerDisconnected, ConnectionResetError) as e:
        check("smtp: scripted reset drops the connection after DATA (plain listener)", True, e)
    log = c.log()
    check("smtp: faults logged with their replies; the dropped message was received whole",
          [x["status"] for x in log[2:]] == [452, 550, 421, 0] and log[-1]["headers"].get("message-id")
          == "<m1@example.com>", [x["status"] for x in log])


def main():
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM):
        signal.signal(signum, on_signal)
    atexit.register(kill_children)
    signal.alarm(19)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="standins-") as tmp:
            check_slack(tmp)
            check_pagerduty(tmp)
            check_teams(tmp)
            check_smtp(tmp)
    except CheckFailed as e:
        print("FAIL %s" % e, flush=True)
        return 1
    except Exception as e:  # a crash is a failure too, with its reason
        print("FAIL unexpected %s: %s" % (type(e).__name__, e), flush=True)
        return 1
    finally:
        signal.alarm(0)
        kill_children()
    print("all %d checks passed in %.1f s" % (COUNT[0], time.monotonic() - started), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
