#!/usr/bin/env python3
"""A strict OpenID Connect provider for tests: authorization code with PKCE (S256) for public clients.

  oidc_provider.py --port 0 --audience pulse-api \
      --client pulse-console=http://127.0.0.1:8080/sign-in/callback \
      --user alice@demo.test:password:tenant-admin:demo[:expires_in_s]   (or --users-file users.json)

With --port 0 the first line on stdout is the chosen port. The issuer is http://127.0.0.1:PORT; a fresh
RSA 2048 key signs every token (RS256, kid in the header). Endpoints: /.well-known/openid-configuration,
/jwks, /authorize (a login form), /token. What it refuses, and how, follows RFC 6749 (4.1.2.1: an error
goes back to the redirect URI only when client and redirect URI are valid; 5.2: token errors as JSON)
and RFC 7636 (the code_verifier must hash to the code_challenge). Codes are single-use and live 60 s.
Discovery, keys and token answer CORS for the origins of the registered redirect URIs (and --origin).
One line per request on stderr; SIGTERM stops it.

A users file is a JSON list of {"email", "password", "role", "tenant", "expires_in"?}.
"""
import argparse
import base64
import hashlib
import html
import json
import re
import secrets
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

CODE_TTL_S = 60
LOGIN_TTL_S = 600
CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # base64url of a SHA-256, unpadded
VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")  # RFC 7636 4.1


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact_json(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def int_bytes(n):
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


class Provider:
    def __init__(self, args):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(8)
        self.audience = args.audience
        self.name = args.name
        self.token_ttl = args.token_ttl
        self.clients = {}  # client_id -> set of exact redirect URIs
        for c in args.client:
            client_id, _, uri = c.partition("=")
            self.clients.setdefault(client_id, set()).add(uri)
        self.origins = set(args.origin)
        for uris in self.clients.values():
            for uri in uris:
                u = urlsplit(uri)
                self.origins.add("%s://%s" % (u.scheme, u.netloc))
        self.users = {}
        for u in args.user:
            parts = u.split(":")
            self.users[parts[0]] = {"email": parts[0], "password": parts[1], "role": parts[2],
                                    "tenant": parts[3], "expires_in": int(parts[4]) if len(parts) > 4 else None}
        if args.users_file:
            with open(args.users_file) as f:
                for u in json.load(f):
                    self.users[u["email"]] = dict(u, expires_in=u.get("expires_in"))
        self.lock = threading.Lock()
        self.logins = {}  # login id -> the validated authorization request, while its form is open
        self.codes = {}  # code -> what it was issued for
        self.issuer = ""

    def jwt(self, header, claims):
        signing_input = b64url(compact_json(header)) + "." + b64url(compact_json(claims))
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64url(signature)

    def jwks(self):
        numbers = self.key.public_key().public_numbers()
        return {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
                          "n": b64url(int_bytes(numbers.n)), "e": b64url(int_bytes(numbers.e))}]}

    def discovery(self):
        i = self.issuer
        return {
            "issuer": i,
            "authorization_endpoint": i + "/authorize",
            "token_endpoint": i + "/token",
            "jwks_uri": i + "/jwks",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email"],
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nonce", "email", "pulse_role", "pulse_tenant"],
            "authorization_response_iss_parameter_supported": True,
        }

    def tokens(self, grant):
        user, now = grant["user"], int(time.time())
        ttl = user["expires_in"] or self.token_ttl
        sub = hashlib.sha256(user["email"].encode()).hexdigest()[:24]
        access = self.jwt({"alg": "RS256", "typ": "at+jwt", "kid": self.kid}, {
            "iss": self.issuer, "sub": sub, "aud": self.audience, "exp": now + ttl, "iat": now,
            "jti": secrets.token_hex(8), "client_id": grant["client_id"], "scope": grant["scope"],
            "email": user["email"], "pulse_role": user["role"], "pulse_tenant": user["tenant"]})
        id_claims = {"iss": self.issuer, "sub": sub, "aud": grant["client_id"], "exp": now + ttl, "iat": now,
                     "auth_time": grant["auth_time"], "email": user["email"]}
        if grant["nonce"] is not None:
            id_claims["nonce"] = grant["nonce"]
        id_token = self.jwt({"alg": "RS256", "typ": "JWT", "kid": self.kid}, id_claims)
        return {"access_token": access, "token_type": "Bearer", "expires_in": ttl, "id_token": id_token,
                "scope": grant["scope"]}


class OAuthError(Exception):
    def __init__(self, error, description, status=400):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


def single_values(query):
    """The parameters, each at most once (RFC 6749 3.1); empty values count as absent."""
    params = {}
    for k, v in parse_qs(query, keep_blank_values=True).items():
        if len(v) > 1:
            raise OAuthError("invalid_request", "%s is given more than once" % k)
        if v[0] != "":
            params[k] = v[0]
    return params


LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to {name}</title></head>
<body><main><h1>Sign in to {name}</h1>
<p>{client} asks who you are.</p>{error}
<form method="post" action="/login">
<input type="hidden" name="login" value="{login}">
<p><label for="username">E-mail</label>
<input id="username" name="username" type="email" autocomplete="username" required value="{username}"></p>
<p><label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit">Continue</button></p>
</form></main></body></html>
"""


def make_handler(p):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "oidc-standin"

        def log_message(self, fmt, *args):
            sys.stderr.write("oidc-standin %s %s\n" % (self.log_date_time_string(), fmt % args))

        def send(self, status, body, content_type, headers=()):
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def cors(self):
            origin = self.headers.get("Origin")
            return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")] if origin in p.origins else []

        def send_json(self, status, obj, headers=()):
            self.send(status, json.dumps(obj), "application/json", self.cors() + list(headers))

        def page(self, status, title, text):
            title, text = html.escape(title), html.escape(text)
            body = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>%s</title></head>'
                    "<body><main><h1>%s</h1><p>%s</p></main></body></html>" % (title, title, text))
            self.send(status, body, "text/html; charset=utf-8")

        def redirect(self, uri, params):
            self.send(303, "", "text/plain", [("Location", uri + ("&" if "?" in uri else "?") + urlencode(params))])

        def body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length).decode("utf-8", "replace") if length else ""

        def do_OPTIONS(self):
            path = urlsplit(self.path).path
            if path not in ("/.well-known/openid-configuration", "/jwks", "/token") or not self.cors():
                return self.send(403, "", "text/plain")
            self.send(204, "", "text/plain", self.cors() + [
                ("Access-Control-Allow-Methods", "POST" if path == "/token" else "GET"),
                ("Access-Control-Allow-Headers", "Content-Type"), ("Access-Control-Max-Age", "600")])

        def do_GET(self):
            url = urlsplit(self.path)
            if url.path == "/.well-known/openid-configuration":
                return self.send_json(200, p.discovery())
            if url.path == "/jwks":
                return self.send_json(200, p.jwks())
            if url.path == "/authorize":
                return self.authorize(url.query)
            if url.path == "/favicon.ico":
                return self.send(204, "", "image/x-icon")
            self.page(404, "Not found", "nothing at " + url.path)

        def do_POST(self):
            path = urlsplit(self.path).path
            if path == "/token":
                return self.token()
            if path == "/login":
                return self.login()
            self.page(404, "Not found", "nothing at " + path)

        def authorize(self, query):
            # Until client and redirect URI are known good, errors are shown here: never sent to an unchecked URI.
            try:
                q = single_values(query)
            except OAuthError as e:
                return self.page(400, "Invalid request", e.description)
            client_id, redirect_uri = q.get("client_id"), q.get("redirect_uri")
            if client_id not in p.clients:
                return self.page(400, "Unknown client", "client_id is missing or not registered")
            if redirect_uri not in p.clients[client_id]:
                return self.page(400, "Invalid redirect URI", "redirect_uri is missing or not this client's")
            reply = {"state": q["state"]} if "state" in q else {}

            def refuse(error, description):
                self.redirect(redirect_uri, dict(error=error, error_description=description, iss=p.issuer, **reply))

            if q.get("response_type") != "code":
                return refuse("unsupported_response_type", "only response_type=code is supported")
            if "openid" not in q.get("scope", "").split():
                return refuse("invalid_scope", "scope must include openid")
            if q.get("code_challenge_method") != "S256":
                return refuse("invalid_request", "code_challenge_method must be S256")
            if not CHALLENGE.match(q.get("code_challenge", "")):
                return refuse("invalid_request", "code_challenge is missing or not a base64url SHA-256")
            login = secrets.token_urlsafe(16)
            with p.lock:
                p.logins[login] = {"client_id": client_id, "redirect_uri": redirect_uri, "reply": reply,
                                   "challenge": q["code_challenge"], "nonce": q.get("nonce"),
                                   "scope": q["scope"], "expires": time.time() + LOGIN_TTL_S}
            self.login_form(login, client_id)

        def login_form(self, login, client_id, username="", error=""):
            message = '<p role="alert">%s</p>' % html.escape(error) if error else ""
            page = LOGIN_PAGE.format(name=html.escape(p.name), client=html.escape(client_id), error=message,
                                     login=login, username=html.escape(username))
            # No script, no style; the form posts here and is redirected to a registered client's origin.
            csp = "default-src 'none'; form-action 'self' " + " ".join(sorted(p.origins))
            self.send(200, page, "text/html; charset=utf-8", [("Content-Security-Policy", csp)])

        def login(self):
            try:
                form = single_values(self.body())
            except OAuthError as e:
                return self.page(400, "Invalid request", e.description)
            with p.lock:
                request = p.logins.get(form.get("login", ""))
                if request and request["expires"] < time.time():
                    del p.logins[form["login"]]
                    request = None
            if not request:
                return self.page(400, "Sign-in expired", "this sign-in is no longer open; start again")
            user = p.users.get(form.get("username", ""))
            if not user or not secrets.compare_digest(user["password"], form.get("password", "")):
                return self.login_form(form["login"], request["client_id"], form.get("username", ""),
                                       "The e-mail or the password is wrong.")
            code = secrets.token_urlsafe(32)
            with p.lock:
                del p.logins[form["login"]]
                p.codes[code] = dict(request, user=user, auth_time=int(time.time()), expires=time.time() + CODE_TTL_S)
            self.redirect(request["redirect_uri"], dict(code=code, iss=p.issuer, **request["reply"]))

        def token(self):
            try:
                self.send_json(200, self.exchange(), [("Pragma", "no-cache")])
            except OAuthError as e:
                extra = [("WWW-Authenticate", 'Bearer realm="token"')] if e.status == 401 else []
                self.send_json(e.status, {"error": e.error, "error_description": e.description}, extra)

        def exchange(self):
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            body = self.body()
            if content_type != "application/x-www-form-urlencoded":
                raise OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded")
            if self.headers.get("Authorization"):
                raise OAuthError("invalid_client", "public clients do not authenticate (method none)", 401)
            form = single_values(body)
            if "grant_type" not in form:
                raise OAuthError("invalid_request", "grant_type is missing")
            if form["grant_type"] != "authorization_code":
                raise OAuthError("unsupported_grant_type", "only authorization_code is supported")
            if form.get("client_id") not in p.clients:
                raise OAuthError("invalid_client", "client_id is missing or not registered")
            for name in ("code", "redirect_uri", "code_verifier"):
                if name not in form:
                    raise OAuthError("invalid_request", name + " is missing")
            if not VERIFIER.match(form["code_verifier"]):
                raise OAuthError("invalid_request", "code_verifier is not 43-128 unreserved characters")
            with p.lock:
                grant = p.codes.pop(form["code"], None)  # presented once, gone: right or wrong
            if not grant or grant["expires"] < time.time():
                raise OAuthError("invalid_grant", "the code is unknown, used or expired")
            if grant["client_id"] != form["client_id"]:
                raise OAuthError("invalid_grant", "the code was issued to another client")
            if grant["redirect_uri"] != form["redirect_uri"]:
                raise OAuthError("invalid_grant", "redirect_uri differs from the authorization request's")
            if b64url(hashlib.sha256(form["code_verifier"].encode("ascii")).digest()) != grant["challenge"]:
                raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
            return p.tokens(grant)

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0, help="0: any free port, printed on stdout")
    parser.add_argument("--audience", required=True, help="the access tokens' aud")
    parser.add_argument("--client", action="append", default=[], help="client_id=exact redirect URI (repeatable)")
    parser.add_argument("--user", action="append", default=[], help="email:password:role:tenant[:expires_in_s]")
    parser.add_argument("--users-file", help="a JSON list of users")
    parser.add_argument("--origin", action="append", default=[], help="one more origin allowed by CORS")
    parser.add_argument("--token-ttl", type=int, default=3600, help="expires_in of the tokens, in seconds")
    parser.add_argument("--name", default="OIDC stand-in", help="the name on the login page")
    args = parser.parse_args()
    if not args.client:
        parser.error("register at least one --client")
    provider = Provider(args)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(provider))
    server.daemon_threads = True
    port = server.server_address[1]
    provider.issuer = "http://127.0.0.1:%d" % port
    print(port, flush=True)
    sys.stderr.write("oidc-standin: issuer %s, clients %s\n" % (provider.issuer, ", ".join(sorted(provider.clients))))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    while not stop.wait(1):
        pass
    server.shutdown()
    server.server_close()
    sys.stderr.write("oidc-standin: stopped\n")


if __name__ == "__main__":
    main()
