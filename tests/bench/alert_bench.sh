#!/usr/bin/env bash
# tests/bench/alert_bench.sh: the alert benchmark. Against a private PostgreSQL and Mosquitto under
# var/bench (ports 55462, 51913) and a release build in build-release/, in one run:
#   (1) the cost of rules on ingest: MQTT ingest rate (publish -> committed rows) with no rules, then with
#       10 THRESHOLD rules on the tenant (every reading evaluated by every rule), and the ratio;
#   (2) publish -> signed webhook latency: a probe device publishes a breaching reading (then a clearing
#       one) while the fleet publishes in the background at half the sustained rate; the latency of each
#       alert is the receiver's arrival time minus the reading's timestamp. Prints p50, p99 and max.
# BENCH_DEVICES (20), BENCH_MESSAGES per device (2000) and BENCH_PROBES (200) scale it.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$PULSE_ROOT"

DEVICES="${BENCH_DEVICES:-20}"
MESSAGES="${BENCH_MESSAGES:-2000}"
PROBES="${BENCH_PROBES:-200}"
HTTP_PORT=18481
SECRET="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

ensure_packages
configure_and_build build-release RelWithDebInfo -DPULSE_BUILD_TESTS=OFF >/dev/null
SIM=build-release/bin/fleet_sim
stack_env "$PULSE_ROOT/var/bench" 55462 51913
stack_down
rm -rf "$STACK_DIR/pg" "$STACK_DIR/mqtt"
PULSED_PID="" RECEIVER_PID="" BG_PID=""
cleanup() {
    for p in $BG_PID $PULSED_PID $RECEIVER_PID; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    stack_down
}
trap cleanup EXIT
stack_up >/dev/null

mkdir -p "$STACK_DIR/etc/plugins.d"
cat >"$STACK_DIR/etc/pulse.properties" <<CONF
http.port = $HTTP_PORT
db.migrations_dir = $PULSE_ROOT/sql
plugins.path = $PULSE_ROOT/build-release/lib/pulse/plugins
plugins.config_dir = plugins.d
log.level = warn
egress.allow = 127.0.0.1/32
CONF
cat >"$STACK_DIR/etc/plugins.d/mqtt.properties" <<CONF
plugin.library = ingest_mqtt.so
instance.mqtt.component = ingest/mqtt
instance.mqtt.config = {"uri_env": "PULSE_MQTT_URI", "password_env": "PULSE_MQTT_INGEST_PASSWORD", "client_id": "bench", "share_group": "pulse", "connections": 2}
CONF
echo "plugin.library = rule_threshold.so" >"$STACK_DIR/etc/plugins.d/rules.properties"
echo "plugin.library = sender_webhook.so" >"$STACK_DIR/etc/plugins.d/webhook.properties"
PULSED=(build-release/bin/pulsed --config "$STACK_DIR/etc/pulse.properties")
"${PULSED[@]}" --migrate 2>/dev/null
psql_owner() { psql "$PULSE_DB_MIGRATE_URI" -Atqc "$1"; }
psql_owner "INSERT INTO pulse.tenants (slug, name) VALUES ('bench', 'Benchmark') ON CONFLICT DO NOTHING"
TOKENS="$STACK_DIR/tokens.txt"
: >"$TOKENS"
for i in $(seq 1 "$DEVICES"); do
    token=$("${PULSED[@]}" --create-device "bench/dev-$i" 2>/dev/null | awk '/^token:/{print $2}')
    echo "device bench/dev-$i token $token" >>"$TOKENS"
done
PROBE_TOKEN=$("${PULSED[@]}" --create-device "bench/probe-1" 2>/dev/null | awk '/^token:/{print $2}')
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }

/usr/bin/python3 tests/standins/webhook_receiver.py --secret "$SECRET" --port-file "$STACK_DIR/receiver.port" \
    >"$STACK_DIR/receiver.log" 2>&1 &
RECEIVER_PID=$!
for _ in $(seq 50); do [ -f "$STACK_DIR/receiver.port" ] && break; sleep 0.1; done
RECEIVER_PORT=$(cat "$STACK_DIR/receiver.port")
"${PULSED[@]}" --create-channel bench/hooks --type webhook \
    --json "{\"url\":\"http://127.0.0.1:$RECEIVER_PORT/ok\",\"secret\":\"$SECRET\"}" >/dev/null

"${PULSED[@]}" 2>"$STACK_DIR/pulsed.log" &
PULSED_PID=$!
wait_for_port "$HTTP_PORT" 30
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$HTTP_PORT/health/ready" >/dev/null && break; sleep 0.1; done

TOTAL=$((DEVICES * MESSAGES))
measure_mqtt() {  # messages/s from the first publish until every reading is committed
    local before start want end
    before=$(psql_owner "SELECT count(*) FROM pulse.telemetry")
    start=$(date +%s.%N)
    "$SIM" mqtt --tokens "$TOKENS" --uri "$PULSE_MQTT_URI" --messages "$MESSAGES" >/dev/null
    want=$((before + TOTAL * 3))
    while [ "$(psql_owner "SELECT count(*) FROM pulse.telemetry")" -lt "$want" ]; do sleep 0.05; done
    end=$(date +%s.%N)
    awk "BEGIN { printf \"%d\", $TOTAL / ($end - $start) }"
}

echo "alert benchmark: $DEVICES devices x $MESSAGES messages (3 readings each) at QoS 1; $(nproc) cores"
OFF=$(measure_mqtt)
echo "(1) MQTT ingest, no rules:                                    $OFF msgs/s"
for i in $(seq 1 9); do
    "${PULSED[@]}" --create-rule "bench/hot-$i" --type threshold --severity LOW \
        --json "{\"metric\":\"temperature\",\"operator\":\"GT\",\"threshold\":$((1000 + i))}" >/dev/null
done
"${PULSED[@]}" --create-rule bench/probe --type threshold --severity CRITICAL --scope device:probe-1 \
    --json '{"metric":"probe","operator":"GT","threshold":0.5}' >/dev/null
sleep 3  # rules are picked up within rules.reload_ms (2 s)
ON=$(measure_mqtt)
echo "    MQTT ingest, 10 rules on the tenant:                       $ON msgs/s, $(calc "$ON / $OFF") x without rules"

HALF=$((ON / 2))
SECONDS_NEEDED=$((PROBES / 4 + 15))
"$SIM" mqtt --tokens "$TOKENS" --uri "$PULSE_MQTT_URI" --messages $((HALF * SECONDS_NEEDED / DEVICES)) \
    --rate "$HALF" >/dev/null &
BG_PID=$!
sleep 2
curl -sf -X POST "http://127.0.0.1:$RECEIVER_PORT/_clear" >/dev/null
{
    for _ in $(seq "$PROBES"); do
        echo "{\"ts\":$(date +%s%3N),\"probe\":1}"
        sleep 0.15
        echo "{\"ts\":$(date +%s%3N),\"probe\":0}"
        sleep 0.1
    done
} | mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -u bench/probe-1 -P "$PROBE_TOKEN" \
    -t devices/bench/probe-1/telemetry -l
sleep 3
kill "$BG_PID" 2>/dev/null || true
wait "$BG_PID" 2>/dev/null || true
BG_PID=""
curl -sf "http://127.0.0.1:$RECEIVER_PORT/_log" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
lat = sorted(r["arrived_ms"] - r["body"]["alert"]["triggered_at_ms"] for r in doc["requests"]
             if r["valid"] and r["body"] and r["body"]["type"] == "alert.opened")
invalid = sum(1 for r in doc["requests"] if not r["valid"])
probes = int(sys.argv[1]); half = sys.argv[2]
if not lat:
    print("(2) no alert reached the receiver"); sys.exit(1)
pick = lambda q: lat[min(len(lat) - 1, int(len(lat) * q))]
print("(2) publish -> signed webhook at the receiver, background %s msgs/s: %d of %d alerts, "
      "p50 %d ms, p99 %d ms, max %d ms (%d invalid signatures)" % (half, len(lat), probes, pick(0.5), pick(0.99), lat[-1], invalid))
' "$PROBES" "$HALF"
