#!/usr/bin/python3
"""A real SMTP server for the e-mail sender's tests: Debian's aiosmtpd (python3-aiosmtpd), configured as a
strict submission relay (../shared/design/CONTRACTS.md section 6), plus the shared test-only HTTP control
interface of the other stand-ins (standin_http.py).

Listeners, all on 127.0.0.1 with ephemeral ports (GET /_info tells them and the CA certificate):
  submission  STARTTLS required before anything else (530 otherwise), AUTH PLAIN/LOGIN required and only
              after TLS, with --user/--password
  smtps       implicit TLS (the 465 style), AUTH required
  plain       no TLS, no AUTH (a relay on a trusted network)
The certificate is made at start by a throwaway CA (python3-cryptography) for 127.0.0.1 and localhost.

Every transaction that reaches DATA, or is refused on the way, is logged: listener, connection number,
TLS, authenticated login and mechanism, envelope, the reply given, and the message parsed with the email
package: headers, MIME structure and decoded parts, and the problems a strict reader finds (missing Date,
Message-ID, From, To or MIME-Version, a header line over 998 octets, a bare CR or LF, non-ASCII in a
header that is not RFC 2047 encoded, no text/plain or text/html part).

Control: GET /_log {"requests": [...], "connections": N}, POST /_clear, GET /_info, and POST /_script
{"key": "<recipient address>", "answers": [...]} where the next transactions whose first recipient is the
key get, in order: "421" (at DATA's end: service closing, then the connection is closed), "452" or "550" (at
RCPT), "reset" (the connection is dropped after the message was received and before the reply),
"hang:SECONDS" (the reply to DATA comes that late), or "250" (normal).
"""
import argparse
import asyncio
import email
import email.policy
import os
import ssl
import sys
import tempfile
import threading
import time

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

import standin_http
from test_certs import make_certificates


class State:
    def __init__(self):
        self.shared = standin_http.Shared()
        self.connections = 0
        self.info = {}


STATE = State()


def message_problems(raw):
    problems = []
    head, _, _ = raw.partition(b"\r\n\r\n")
    for line in raw.split(b"\r\n"):
        if len(line) > 998:
            problems.append("a line longer than 998 octets")
            break
    if b"\r" in raw.replace(b"\r\n", b"") or b"\n" in raw.replace(b"\r\n", b""):
        problems.append("a bare CR or LF")
    for line in head.split(b"\r\n"):
        if any(b > 0x7F for b in line):
            problems.append("non-ASCII octets in a header line (not RFC 2047 encoded): %r" % line[:80])
    return problems


def describe_message(raw):
    problems = message_problems(raw)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    headers = {}
    for name, value in msg.items():
        headers.setdefault(name.lower(), str(value))
    for required in ("date", "from", "to", "message-id", "mime-version", "subject"):
        if required not in headers:
            problems.append("no %s header" % required)
    if "date" in headers:
        try:
            email.utils.parsedate_to_datetime(headers["date"])
        except (TypeError, ValueError):
            problems.append("Date is not an RFC 5322 date: %r" % headers["date"])
    mid = headers.get("message-id", "")
    if mid and not (mid.startswith("<") and mid.endswith(">") and "@" in mid):
        problems.append("Message-ID is not <left@right>: %r" % mid)
    parts = []
    for part in msg.walk():
        if part.is_multipart():
            parts.append({"content_type": part.get_content_type()})
            continue
        parts.append({"content_type": part.get_content_type(),
                      "charset": part.get_content_charset(),
                      "transfer_encoding": part.get("Content-Transfer-Encoding"),
                      "text": part.get_content()})
    types = [p["content_type"] for p in parts]
    if "text/plain" not in types:
        problems.append("no text/plain part")
    if "text/html" not in types:
        problems.append("no text/html part")
    return headers, parts, problems


class Handler:
    def __init__(self, listener):
        self.listener = listener

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if not envelope.rcpt_tos:
            answer = STATE.shared.pop_script(address)
            session.pulse_scripted = answer
            if answer and answer[1]["kind"] == "status" and answer[1]["status"] in (452, 550):
                code = answer[1]["status"]
                self.log(server, session, envelope, code, scripted=answer[0], rcpt=[address])
                return ("452 4.3.1 Insufficient system storage" if code == 452
                        else "550 5.1.1 Mailbox unavailable")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        answer = getattr(session, "pulse_scripted", None)
        session.pulse_scripted = None
        if answer:
            kind = answer[1]["kind"]
            if kind == "reset":
                self.log(server, session, envelope, 0, scripted=answer[0])
                server.transport.abort()  # the message arrived, its reply never does
                return "250 OK"
            if kind == "hang":
                await asyncio.sleep(answer[1]["seconds"])
            elif answer[1]["status"] == 421:
                self.log(server, session, envelope, 421, scripted=answer[0])
                asyncio.get_running_loop().call_soon(server.transport.close)
                return "421 4.3.2 Service shutting down, closing transmission channel"
        self.log(server, session, envelope, 250, scripted=answer[0] if answer else None)
        return "250 2.0.0 OK queued as %d" % len(STATE.shared.log)

    def log(self, server, session, envelope, status, scripted=None, rcpt=None):
        entry = {"listener": self.listener, "connection": getattr(session, "pulse_connection", 0),
                 "at_ms": time.time() * 1000,
                 "tls": server.transport.get_extra_info("ssl_object") is not None,
                 "auth_login": session.auth_data.login.decode()
                 if isinstance(session.auth_data, LoginPassword) and session.authenticated else None,
                 "auth_mechanism": getattr(session, "pulse_mechanism", None),
                 "helo": session.host_name, "mail_from": envelope.mail_from,
                 "rcpt_tos": rcpt if rcpt is not None else list(envelope.rcpt_tos),
                 "status": status, "scripted": scripted, "headers": {}, "parts": [], "problems": []}
        if envelope.original_content:
            raw = envelope.original_content
            entry["size"] = len(raw)
            try:
                entry["headers"], entry["parts"], entry["problems"] = describe_message(raw)
            except Exception as e:  # a message the email package cannot read at all
                entry["problems"] = ["unreadable message: %s" % e]
        entry["valid"] = not entry["problems"]
        with STATE.shared.lock:
            STATE.shared.log.append(entry)


class CountingSMTP(SMTP):
    def connection_made(self, transport):
        super().connection_made(transport)
        if not hasattr(self, "pulse_connection"):  # STARTTLS calls this again for the TLS transport
            with STATE.shared.lock:
                STATE.connections += 1
                self.pulse_connection = STATE.connections
        self.session.pulse_connection = self.pulse_connection


def authenticator_for(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        session.pulse_mechanism = mechanism
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
    return authenticate


class ControlHandler(standin_http.BaseHandler):
    shared = STATE.shared
    script_body_allowed = False

    def service(self, method, path, query, headers, raw, at_ms):
        self.send_json(404, {"error": "this is an SMTP server; its control paths start with /_"})

    def extra_control(self, method, path):
        if path == "/_info" and method == "GET":
            self.send_json(200, STATE.info)
            return True
        return False

    def extra_log(self):
        return {"connections": STATE.connections}

    def clear_state(self):
        STATE.connections = 0


async def start_servers(args, ca_pem, cert_file, key_file):
    loop = asyncio.get_running_loop()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_file, key_file)
    auth = authenticator_for(args.user, args.password)
    common = dict(hostname="smtp.pulse.test", ident="Pulse test relay (aiosmtpd)", timeout=30)
    listeners = {
        "submission": lambda: CountingSMTP(Handler("submission"), tls_context=server_tls,
                                           require_starttls=True, auth_required=True,
                                           auth_require_tls=True, authenticator=auth, **common),
        "smtps": lambda: CountingSMTP(Handler("smtps"), auth_required=True, auth_require_tls=False,
                                      authenticator=auth, **common),
        "plain": lambda: CountingSMTP(Handler("plain"), **common),
    }
    ports = {}
    for name, factory in listeners.items():
        server = await loop.create_server(factory, "127.0.0.1", 0,
                                          ssl=server_tls if name == "smtps" else None)
        ports[name] = server.sockets[0].getsockname()[1]
    STATE.info = {"ports": ports, "ca_pem": ca_pem, "user": args.user}
    return ports


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    standin_http.common_args(parser)
    parser.add_argument("--user", default="pulse")
    parser.add_argument("--password", default="s3cret-relay-pass")
    args = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="pulse-smtp-")
    ca_pem, cert_file, key_file = make_certificates(directory)

    loop = asyncio.new_event_loop()
    ports = loop.run_until_complete(start_servers(args, ca_pem, cert_file, key_file))
    threading.Thread(target=loop.run_forever, daemon=True).start()
    print("SMTP listeners (aiosmtpd) on 127.0.0.1: %s" % ports, file=sys.stderr, flush=True)
    standin_http.serve(ControlHandler, args, "smtp")


if __name__ == "__main__":
    sys.exit(main())
