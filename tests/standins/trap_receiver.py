#!/usr/bin/python3
"""A real SNMP trap receiver for the SNMP sender's tests and benchmark: Debian's snmptrapd (net-snmp 5.9.3),
started on a free loopback UDP port with a private configuration and state directory
(../shared/design/CONTRACTS.md section 5), plus the shared test-only HTTP control interface of the other
stand-ins (standin_http.py).

snmptrapd accepts (and logs) only what its access control lets through, so a notification with a wrong
community, an unknown user or wrong keys is not logged: v2c ones are dropped silently, v3 informs are
answered with a USM report. Accepted:
  v2c         community --community (default n0t-public-c0mmunity), traps and informs
  v3 traps    user trapuser, authPriv SHA-256/AES, localized to the sender's engine ID --engine-id
              (default 0x8000000001020304): a v3 trap's authoritative engine is its sender
  v3 informs  user informuser, authPriv SHA-256/AES (the receiver's own engine, discovered by the sender)
Passphrases: --auth-passphrase, --priv-passphrase.

Each received notification is logged with its PDU type (TRAP2, INFORM), version, community or user, and its
varbinds in order ({"oid", "type", "value"}, strings unquoted), and checked as a strict manager would: the
first varbind sysUpTime.0 (Timeticks), the second snmpTrapOID.0 (OID) (RFC 3416 section 4.2.6).

Control: GET /_log {"requests": [{"pdu", "version", "security", "varbinds", "valid", "problems"}]},
GET /_info {"port", "community", "engine_id"}, POST /_clear.
"""
import argparse
import atexit
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import standin_http

STATE = standin_http.Shared()
INFO = {}
SYS_UPTIME = ".1.3.6.1.2.1.1.3.0"
SNMP_TRAP_OID = ".1.3.6.1.6.3.1.1.4.1.0"
HEADER = re.compile(r"^PDU (TRAP2|INFORM|TRAP), SNMP (v1|v2c|v3), (community|user) ([^,|]*)(?:, context [^|]*)?\|")


def parse_varbind(text):
    oid, _, rest = text.partition(" = ")
    kind, _, value = rest.partition(": ")
    if kind == "STRING" and len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return {"oid": oid, "type": kind, "value": value}


def parse(record):
    """One notification as snmptrapd printed it with -F 'PDU %P|%v\\n' (-On: numeric OIDs)."""
    m = HEADER.match(record)
    if not m:
        return {"pdu": None, "raw": record, "valid": False, "problems": ["unparsed line"]}
    varbinds = [parse_varbind(v) for v in record[m.end():].split("\t") if v]
    problems = []
    if len(varbinds) < 2:
        problems.append("fewer than two varbinds")
    else:
        if varbinds[0]["oid"] != SYS_UPTIME or varbinds[0]["type"] != "Timeticks":
            problems.append("varbind 1 is %s %s, must be sysUpTime.0 Timeticks" % (varbinds[0]["oid"], varbinds[0]["type"]))
        if varbinds[1]["oid"] != SNMP_TRAP_OID or varbinds[1]["type"] != "OID":
            problems.append("varbind 2 is %s %s, must be snmpTrapOID.0 OID" % (varbinds[1]["oid"], varbinds[1]["type"]))
    return {"pdu": m.group(1), "version": m.group(2), "security": m.group(4), "varbinds": varbinds,
            "valid": not problems, "problems": problems}


def follow(path):
    """Reads snmptrapd's log as it grows; a record runs until the next line that starts one."""
    while not os.path.exists(path):
        time.sleep(0.02)
    record = None
    with open(path, encoding="utf-8", errors="replace") as f:
        while True:
            line = f.readline()
            if not line:
                time.sleep(0.01)
                continue
            line = line.rstrip("\n")
            if line.startswith("PDU "):
                record = line
            elif record is not None and line != "END":
                record += "\n" + line  # a value with a line break in it
            if line == "END" and record is not None:
                with STATE.lock:
                    STATE.log.append(parse(record))
                record = None


def die_with_parent():
    """snmptrapd gets SIGTERM when this process ends, however it ends (the parent watch uses os._exit)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class ControlHandler(standin_http.BaseHandler):
    shared = STATE
    script_body_allowed = False

    def service(self, method, path, query, headers, raw, at_ms):
        self.send_json(404, {"error": "this is an SNMP trap receiver; its control paths start with /_"})

    def extra_control(self, method, path):
        if path == "/_info" and method == "GET":
            self.send_json(200, INFO)
            return True
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    standin_http.common_args(parser)
    parser.add_argument("--community", default="n0t-public-c0mmunity")
    parser.add_argument("--engine-id", default="0x8000000001020304")
    parser.add_argument("--auth-passphrase", default="auth-passphrase-1")
    parser.add_argument("--priv-passphrase", default="priv-passphrase-1")
    args = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="pulse-snmptrapd-")
    port = free_udp_port()
    with open(os.path.join(directory, "snmptrapd.conf"), "w") as f:
        f.write("snmpTrapdAddr udp:127.0.0.1:%d\n" % port)
        f.write("doNotRetainNotificationLogs yes\n")
        f.write("authCommunity log %s\n" % args.community)
        f.write('createUser -e %s trapuser SHA-256 "%s" AES "%s"\n' % (args.engine_id, args.auth_passphrase, args.priv_passphrase))
        f.write('createUser informuser SHA-256 "%s" AES "%s"\n' % (args.auth_passphrase, args.priv_passphrase))
        f.write("authUser log trapuser priv\nauthUser log informuser priv\n")
    log = os.path.join(directory, "snmptrapd.log")
    trapd = subprocess.Popen(
        ["/usr/sbin/snmptrapd", "-f", "-On", "-Lf", log, "-C", "-c", os.path.join(directory, "snmptrapd.conf"),
         "--persistentDir=" + os.path.join(directory, "state"), "-F", "PDU %P|%v\\nEND\\n"],
        env=dict(os.environ, MIBS=""), stdout=subprocess.DEVNULL, stderr=sys.stderr,
        preexec_fn=die_with_parent)

    def stop(*_):
        if trapd.poll() is None:
            trapd.terminate()
            try:
                trapd.wait(5)
            except subprocess.TimeoutExpired:
                trapd.kill()
        shutil.rmtree(directory, ignore_errors=True)
    atexit.register(stop)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    for _ in range(200):
        if os.path.exists(log) and "NET-SNMP version" in open(log, errors="replace").read():
            break
        if trapd.poll() is not None:
            sys.exit("snmptrapd exited (%s)" % trapd.returncode)
        time.sleep(0.025)
    else:
        sys.exit("snmptrapd did not start")
    INFO.update({"port": port, "community": args.community, "engine_id": args.engine_id})
    threading.Thread(target=follow, args=(log,), daemon=True).start()
    print("snmptrapd on udp 127.0.0.1:%d" % port, file=sys.stderr, flush=True)
    standin_http.serve(ControlHandler, args, "snmp")


if __name__ == "__main__":
    sys.exit(main())
