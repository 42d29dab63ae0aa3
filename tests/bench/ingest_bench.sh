#!/usr/bin/env bash
# tests/bench/ingest_bench.sh: the telemetry benchmark. In one run, against a private PostgreSQL and
# Mosquitto under var/bench (ports 55462, 51913) and a release build in build-release/:
#   (a) the raw broker ceiling: fleet_sim -> Mosquitto -> a plain subscriber, msgs/s at QoS 1
#   (b) Pulse MQTT ingest: fleet_sim -> Mosquitto -> pulsed -> committed rows, msgs/s and readings/s, b/a
#   (c) the raw COPY ceiling: the fleet's rows COPied straight into pulse.telemetry
#   (d) Pulse HTTP batch ingest, readings/s and d/c; single-reading requests per second and p99
# BENCH_DEVICES (20), BENCH_MESSAGES per device over MQTT (2000), BENCH_HTTP_MESSAGES per device in HTTP
# batches (20000) and BENCH_COPY_ROWS (400000) scale it.
set -euo pipefail
source "$(dirname "$0")/bench_lib.sh"

DEVICES="${BENCH_DEVICES:-20}"
MESSAGES="${BENCH_MESSAGES:-2000}"
HTTP_MESSAGES="${BENCH_HTTP_MESSAGES:-20000}"
COPY_ROWS="${BENCH_COPY_ROWS:-400000}"
HTTP_PORT=18480

bench_stack
bench_config "$HTTP_PORT"
cat >"$STACK_DIR/etc/plugins.d/ingest.properties" <<CONF
plugin.library = ingest_http.so
instance.http.component = ingest/http
instance.http.config = {}
CONF
# HTTP batches carry timestamps up to HTTP_MESSAGES ms back: their own devices, so that no reading of
# theirs has the key of one sent over MQTT a few seconds before.
bench_fleet "$DEVICES" http
HTTP_TOKENS="$TOKENS"
bench_fleet "$DEVICES"
TOTAL=$((DEVICES * MESSAGES))

echo "benchmark: $DEVICES devices x $MESSAGES messages (3 readings each) at QoS 1; $(nproc) cores"

# (a) the broker's ceiling, with no pulsed attached
"$SIM" subscribe --uri "$PULSE_MQTT_URI" --user pulse-ingest --password "$PULSE_MQTT_INGEST_PASSWORD" \
    --expect "$TOTAL" --idle-timeout 5 >"$STACK_DIR/a.json" &
SUB=$!
sleep 1
"$SIM" mqtt --tokens "$TOKENS" --uri "$PULSE_MQTT_DEVICE_URI" --messages "$MESSAGES" >/dev/null
wait "$SUB" || true
A=$(awk "BEGIN { printf \"%d\", $(json "$(tail -1 "$STACK_DIR/a.json")" msgs_per_s) }")
echo "(a) broker ceiling, fleet_sim -> Mosquitto -> subscriber:      $A msgs/s"

# (b) Pulse MQTT ingest: publish, then time until every reading is committed
bench_start_pulsed "$HTTP_PORT"
before=$(psql_owner "SELECT count(*) FROM pulse.telemetry")
cpu_before=$(cpu_seconds)
start=$(date +%s.%N)
"$SIM" mqtt --tokens "$TOKENS" --uri "$PULSE_MQTT_DEVICE_URI" --messages "$MESSAGES" >"$STACK_DIR/b.json"
want=$((before + TOTAL * 3))
while [ "$(psql_owner "SELECT count(*) FROM pulse.telemetry")" -lt "$want" ]; do
    sleep 0.05
    if [ "$(calc "$(date +%s.%N) - $start > 120")" != "0.00" ]; then echo "(b) timed out"; break; fi
done
end=$(date +%s.%N)
cpu_after=$(cpu_seconds)
B=$(awk "BEGIN { printf \"%d\", $TOTAL / ($end - $start) }")
echo "(b) Pulse MQTT ingest, publish -> committed rows:              $B msgs/s ($((B * 3)) readings/s), $(calc "$B / $A") x (a)"
echo "    publish -> PUBACK p50/p99: $(json "$(tail -1 "$STACK_DIR/b.json")" p50_ms) / $(json "$(tail -1 "$STACK_DIR/b.json")" p99_ms) ms"
cpu_report "(b)" "$cpu_before" "$cpu_after" $((TOTAL * 3))
# At half that rate, publish -> commit: fleet_sim stamps each reading with its publish time, and pulsed's
# pulse_telemetry_commit_age_seconds histogram observes now - that stamp at each commit (bucket bounds).
curl -s "http://127.0.0.1:$HTTP_PORT/metrics" >"$STACK_DIR/metrics-before.txt"
"$SIM" mqtt --tokens "$TOKENS" --uri "$PULSE_MQTT_DEVICE_URI" --messages $((MESSAGES / 4)) --rate $((B / 2)) >"$STACK_DIR/b2.json"
sleep 1
curl -s "http://127.0.0.1:$HTTP_PORT/metrics" >"$STACK_DIR/metrics-after.txt"
echo "    at $((B / 2)) msgs/s: publish -> commit $(histogram_quantiles "$STACK_DIR/metrics-before.txt" "$STACK_DIR/metrics-after.txt" pulse_telemetry_commit_age_seconds 0.5 0.99)"
echo "                      publish -> PUBACK p50/p99 $(json "$(tail -1 "$STACK_DIR/b2.json")" p50_ms) / $(json "$(tail -1 "$STACK_DIR/b2.json")" p99_ms) ms"

# (c) the raw COPY ceiling into the same table, as the database superuser: PostgreSQL refuses COPY FROM into a
# table under row-level security to everyone else, its owner included (pulsed INSERTs its rows).
# The rows are those the fleet sends (every device's two readings per message); one device's rows only,
# all at the right edge of the index, are shown too.
tenant=$(psql_owner "SELECT id FROM pulse.tenants WHERE slug = 'bench'")
devices=$(psql_owner "SELECT string_agg(d.id::text, ',') FROM pulse.devices d JOIN pulse.tenants t ON t.id = d.tenant_id WHERE t.slug = 'bench' AND d.name LIKE 'dev-%'")
copy_rate() { json "$(build-release/bin/bench_copy "host=$PG_SOCKET_DIR port=$PG_PORT user=postgres dbname=pulse" "$tenant" "$1" "$COPY_ROWS" 5000 2)" rows_per_s; }
C=$(awk "BEGIN { printf \"%d\", $(copy_rate "$devices") }")
C1=$(awk "BEGIN { printf \"%d\", $(copy_rate "${devices%%,*}") }")
echo "(c) raw binary COPY into pulse.telemetry (5000-row batches):   $C rows/s ($C1 rows/s for one device's rows)"

# (d) Pulse HTTP: batches of 500 readings-pairs, then single readings
cpu_before=$(cpu_seconds)
"$SIM" http --tokens "$HTTP_TOKENS" --url "http://127.0.0.1:$HTTP_PORT" --messages "$HTTP_MESSAGES" --batch 500 >"$STACK_DIR/d.json"
cpu_after=$(cpu_seconds)
D=$(awk "BEGIN { printf \"%d\", $(json "$(tail -1 "$STACK_DIR/d.json")" msgs_per_s) * 2 }")
echo "(d) Pulse HTTP batch ingest (500 messages, 1000 readings/request): $D readings/s committed, $(calc "$D / $C") x (c)"
cpu_report "(d)" "$cpu_before" "$cpu_after" $((DEVICES * HTTP_MESSAGES * 2))
"$SIM" http --tokens "$TOKENS" --url "http://127.0.0.1:$HTTP_PORT" --messages 200 --batch 1 >"$STACK_DIR/d1.json"
echo "    single-reading requests: $(json "$(tail -1 "$STACK_DIR/d1.json")" msgs_per_s) req/s, p50/p99 $(json "$(tail -1 "$STACK_DIR/d1.json")" p50_ms) / $(json "$(tail -1 "$STACK_DIR/d1.json")" p99_ms) ms"
