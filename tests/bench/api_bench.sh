#!/usr/bin/env bash
# tests/bench/api_bench.sh: the REST API's bulk paths against a release pulsed on the private bench stack
# (var/bench): a CSV import of BENCH_IMPORT_DEVICES devices (10,000, the most one import takes) in one
# request, all or nothing, and the CSV export of the whole fleet. Prints devices per second.
set -euo pipefail
source "$(dirname "$0")/bench_lib.sh"

DEVICES="${BENCH_IMPORT_DEVICES:-10000}"
HTTP_PORT=18482
URL="http://127.0.0.1:$HTTP_PORT"

bench_stack
bench_config "$HTTP_PORT"
PULSE_DEMO_HISTORY=false PULSE_DEMO_EMAIL=bench@pulse.local PULSE_DEMO_PASSWORD=bench-password-1 "${PULSED[@]}" --seed-demo >/dev/null 2>&1
bench_start_pulsed "$HTTP_PORT"

jar="$STACK_DIR/cookies"
csrf=$(curl -sf -c "$jar" -H 'Content-Type: application/json' \
    -d '{"email":"bench@pulse.local","password":"bench-password-1"}' "$URL/api/v1/session" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])')
python3 -c "
print('name,tags')
for i in range($DEVICES): print(f'bulk-{i:05d},imported;bench')" >"$STACK_DIR/devices.csv"

echo "api benchmark: CSV import of $DEVICES devices in one request; $(nproc) cores"
start=$(date +%s.%N)
code=$(curl -s -o "$STACK_DIR/import.json" -w '%{http_code}' -b "$jar" -H "X-CSRF-Token: $csrf" \
    -H 'Content-Type: text/csv' --data-binary @"$STACK_DIR/devices.csv" "$URL/api/v1/devices/import")
end=$(date +%s.%N)
[ "$code" = 201 ] || { echo "import answered $code: $(head -c 300 "$STACK_DIR/import.json")"; exit 1; }
echo "import: $DEVICES devices (each with a token, its SHA-256 and Mosquitto hash, the broker file rewritten) in $(calc "$end - $start") s = $(calc "$DEVICES / ($end - $start)") devices/s"
start=$(date +%s.%N)
bytes=$(curl -s -o /dev/null -w '%{size_download}' -b "$jar" "$URL/api/v1/devices/export?format=csv")
end=$(date +%s.%N)
echo "export: the fleet as CSV, $bytes bytes in $(calc "($end - $start) * 1000") ms"
