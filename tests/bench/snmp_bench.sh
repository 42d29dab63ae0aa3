#!/usr/bin/env bash
# tests/bench/snmp_bench.sh: sender_snmp against a real snmptrapd on loopback (tests/standins/trap_receiver.py),
# with a release build in build-release/ (tests/bench/snmp_bench.cpp, through the SDK's test host; no
# database or pulsed needed): v2c traps, v2c informs and v3 authPriv informs per second, one at a time and
# from 8 threads, with p50/p99 per delivery and the ratio 8 threads / 1; then a v2c inform channel's p99
# beside another channel whose receiver never answers, as a ratio to the same channel alone; and how many
# of the traps sent the receiver logged (UDP: traps it could not take in time are lost unseen).
# BENCH_N (2000) notifications per row.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$PULSE_ROOT"
ensure_packages
configure_and_build build-release RelWithDebInfo -DPULSE_BUILD_TESTS=OFF >/dev/null
cmake --build build-release --target snmp_bench >/dev/null

work="$(mktemp -d)"
/usr/bin/python3 tests/standins/trap_receiver.py --port-file "$work/port" 2>"$work/receiver.log" &
receiver=$!
trap 'kill $receiver 2>/dev/null; wait $receiver 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 200); do [ -s "$work/port" ] && break; sleep 0.05; done
control="http://127.0.0.1:$(cat "$work/port")"
info=$(curl -sf "$control/_info")
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$info" "$1"; }
silent=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

build-release/bin/snmp_bench build-release/lib/pulse/plugins/sender_snmp.so "$(field port)" "$silent" \
    "$(field community)" "${BENCH_N:-2000}"
sleep 1
curl -sf "$control/_log" | python3 -c '
import collections, json, sys
got = collections.Counter(r["pdu"] for r in json.load(sys.stdin)["requests"])
print("snmptrapd logged: %d traps, %d informs" % (got["TRAP2"], got["INFORM"]))'
