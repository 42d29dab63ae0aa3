#!/usr/bin/env bash
# tests/bench/inbox_bench.sh: breach -> inbox. Against a private PostgreSQL and Mosquitto under var/bench
# (ports 55462, 51913) and a release build in build-release/, pulsed serving the console (spa/dist), in one run:
#   (1) the MQTT ingest rate of this run, as ingest_bench.sh (b) measures it (publish -> committed rows);
#   (2) breach -> row in an open alert inbox in Chromium: a tenant-wide THRESHOLD rule (hold_for_s 0), one
#       fresh device per breach publishes one breaching reading over MQTT, and spa/e2e/bench/inbox-bench.mjs
#       times it until the device's alert row is in the page; BENCH_BREACHES breaches with no other load,
#       then as many with the fleet publishing at half of (1) in the background. Prints p50, p99, max, the
#       background rate achieved and the ratio loaded / unloaded. Goal p99 < 1 s (printed, not asserted).
# BENCH_DEVICES (20), BENCH_MESSAGES per device for (1) (2000) and BENCH_BREACHES (100) scale it.
set -euo pipefail
[ -n "${BENCH_TRACE:-}" ] && set -x
source "$(dirname "$0")/bench_lib.sh"

DEVICES="${BENCH_DEVICES:-20}"
MESSAGES="${BENCH_MESSAGES:-2000}"
BREACHES="${BENCH_BREACHES:-100}"
HTTP_PORT=18483
URL="http://127.0.0.1:$HTTP_PORT"
EMAIL=bench@pulse.local
PASSWORD=bench-password-1

[ -f spa/dist/index.html ] || die "spa/dist is not built: run scripts/build-spa (or cd spa && npm run build)"
[ -d spa/node_modules/playwright-core ] || die "spa/node_modules is missing: run scripts/build-spa"
command -v mosquitto_pub >/dev/null || die "mosquitto_pub is missing (mosquitto-clients)"

bench_stack
bench_config "$HTTP_PORT" "http.spa_dir = $PULSE_ROOT/spa/dist"
echo "plugin.library = rule_threshold.so" >"$STACK_DIR/etc/plugins.d/rules.properties"
# The demo tenant and its tenant-admin (no history); its own rules off, so that only the breaches raise alerts.
PULSE_DEMO_HISTORY=false PULSE_DEMO_EMAIL="$EMAIL" PULSE_DEMO_PASSWORD="$PASSWORD" "${PULSED[@]}" --seed-demo >/dev/null 2>&1
psql_owner "UPDATE pulse.rules SET enabled = false"
"${PULSED[@]}" --create-rule demo/breach --type threshold --severity CRITICAL \
    --json '{"metric":"breach","operator":"GT","threshold":0.5,"hold_for_s":0}' >/dev/null
bench_fleet "$DEVICES" dev demo  # the background fleet, in the same tenant (temperature, humidity: no rule)
bench_start_pulsed "$HTTP_PORT"

jar="$STACK_DIR/cookies"
csrf=$(curl -sf -c "$jar" -H 'Content-Type: application/json' -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" \
    "$URL/api/v1/session" | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])')
# One device per breach, per phase (a device's alert stays open): imported in one request, tokens as fleet_sim's.
probes() {  # probes <first> <last> <file>
    python3 -c "
import sys
print('name,tags')
for i in range($1, $2 + 1): print(f'probe-{i},bench')" |
        curl -sf -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: text/csv' --data-binary @- "$URL/api/v1/devices/import" |
        python3 -c 'import json,sys; [print("device", d["mqtt_username"], "token", d["token"]) for d in json.load(sys.stdin)["items"]]' >"$3"
    [ "$(wc -l <"$3")" -eq $(($2 - $1 + 1)) ] || die "probe import failed"
}
probes 1 "$BREACHES" "$STACK_DIR/probes-idle.txt"
probes $((BREACHES + 1)) $((2 * BREACHES)) "$STACK_DIR/probes-load.txt"
sleep 1  # the broker reloads its password file

fleet_rows() { psql_owner "SELECT count(*) FROM pulse.telemetry t JOIN pulse.devices d ON d.id = t.device_id WHERE d.name LIKE 'dev-%'"; }
TOTAL=$((DEVICES * MESSAGES))
echo "inbox benchmark: $BREACHES breaches per phase, $DEVICES background devices at QoS 1; $(nproc) cores"

# (1) this run's MQTT ingest rate, as ingest_bench.sh (b)
before=$(fleet_rows)
start=$(date +%s.%N)
"$SIM" mqtt --tokens "$TOKENS" --uri "$PULSE_MQTT_DEVICE_URI" --messages "$MESSAGES" >/dev/null
want=$((before + TOTAL * 3))
while [ "$(fleet_rows)" -lt "$want" ]; do
    sleep 0.05
    if [ "$(calc "$(date +%s.%N) - $start > 120")" != "0.00" ]; then echo "(1) timed out"; break; fi
done
end=$(date +%s.%N)
B=$(awk "BEGIN { printf \"%d\", $TOTAL / ($end - $start) }")
HALF=$((B / 2))
echo "(1) MQTT ingest, publish -> committed rows:                   $B msgs/s ($((B * 3)) readings/s)"
sleep 2

phase() {  # phase <label> <tokens file>: the browser's run; its JSON summary in $STACK_DIR/<label>.json
    (cd spa && node e2e/bench/inbox-bench.mjs --url "$URL" --email "$EMAIL" --password "$PASSWORD" --tokens "$2" \
        --mqtt-port "$MQTT_PORT" --label "$1") >"$STACK_DIR/$1.out" 2>"$STACK_DIR/$1.err" ||
        { cat "$STACK_DIR/$1.err" >&2; die "the browser phase '$1' failed"; }
    tail -1 "$STACK_DIR/$1.out" >"$STACK_DIR/$1.json"
}
# committed <first> <last>: of that, the server's part: reading -> alert committed (opened_at - triggered_at,
# the reading's own ts), p50 / p99 / max over the probes' alerts.
committed() {
    psql_owner "WITH x AS (SELECT extract(epoch FROM a.opened_at - a.triggered_at) * 1000 AS ms FROM pulse.alerts a
        JOIN pulse.devices d ON d.id = a.device_id WHERE d.name ~ '^probe-[0-9]+$'
        AND substring(d.name FROM 7)::int BETWEEN $1 AND $2)
        SELECT format('p50 %s ms, p99 %s ms, max %s ms', round(percentile_disc(0.5) WITHIN GROUP (ORDER BY ms)::numeric),
            round(percentile_disc(0.99) WITHIN GROUP (ORDER BY ms)::numeric), round(max(ms)::numeric)) FROM x"
}
report() {  # report <label> <what>
    python3 - "$STACK_DIR/$1.json" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("    %-34s %d of %d rows seen, p50 %.0f ms, p99 %.0f ms, max %.0f ms (%d not seen within 10 s; %.1f s)" % (
    sys.argv[2], r["count"], r["devices"], r["p50_ms"] or 0, r["p99_ms"] or 0, r["max_ms"] or 0, len(r["timeouts"]), r["seconds"]))
PY
}

# (2a) no background load
phase idle "$STACK_DIR/probes-idle.txt"
# The first phase's alerts closed, so that the loaded phase starts from the same inbox.
ids=$(curl -sf -b "$jar" "$URL/api/v1/alerts?status=OPEN&limit=200" | python3 -c 'import json,sys; print(json.dumps([a["id"] for a in json.load(sys.stdin)["items"]]))')
[ "$ids" = "[]" ] || curl -sf -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
    -d "{\"action\":\"close\",\"ids\":$ids}" "$URL/api/v1/alerts/bulk" >/dev/null
sleep 2

# (2b) the fleet at half of (1) in the background, for longer than the phase takes
BG_SECONDS=$((BREACHES * 6 / 10 + 40))
"$SIM" mqtt --tokens "$TOKENS" --uri "$PULSE_MQTT_DEVICE_URI" --messages $((HALF * BG_SECONDS / DEVICES)) \
    --rate "$HALF" >/dev/null &
BG_PID=$!
BENCH_PIDS+=("$BG_PID")
sleep 2
rows_before=$(fleet_rows)
t0=$(date +%s.%N)
phase load "$STACK_DIR/probes-load.txt"
rows_after=$(fleet_rows)
t1=$(date +%s.%N)
kill -0 "$BG_PID" 2>/dev/null || echo "    (the background load ended before the phase did: its rate below is an average over less)"
{ kill "$BG_PID" && wait "$BG_PID"; } 2>/dev/null || true
BG_RATE=$(awk "BEGIN { printf \"%d\", ($rows_after - $rows_before) / 3 / ($t1 - $t0) }")

echo "(2) breaching reading over MQTT -> its row in the open alert inbox (Chromium):"
report idle "no background load:"
report load "background at $HALF msgs/s:"
echo "    of which reading -> alert committed (opened_at - the reading's ts):"
printf '      %-32s %s\n' "no background load:" "$(committed 1 "$BREACHES")" \
    "background at $HALF msgs/s:" "$(committed $((BREACHES + 1)) $((2 * BREACHES)))"
echo "    background achieved $BG_RATE msgs/s committed during the phase ($(calc "$BG_RATE / $B") x (1), target 0.50)"
python3 - "$STACK_DIR/idle.json" "$STACK_DIR/load.json" <<'PY'
import json, sys
idle, load = (json.load(open(p)) for p in sys.argv[1:3])
ratio = lambda k: "%.2f" % (load[k] / idle[k]) if idle[k] else "n/a"
print("    loaded / unloaded: p50 %s x, p99 %s x" % (ratio("p50_ms"), ratio("p99_ms")))
met = load["p99_ms"] is not None and load["p99_ms"] < 1000 and not load["timeouts"]
print("    goal p99 < 1 s under load: %s" % ("met" if met else "not met"))
PY
