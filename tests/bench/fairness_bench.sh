#!/usr/bin/env bash
# tests/bench/fairness_bench.sh: one device's flood against another tenant's ingest (issue 12, item 6),
# with the default budgets (the host's ingest.* readings per device and tenant, the broker's
# plugins/mosquitto_budget messages per device and tenant). In one run, against var/bench:
#   baseline   tenant "quiet" (20 devices) posts single readings over HTTP at BENCH_QUIET_RATE/s
#   MQTT flood the same, while one device of tenant "noisy" publishes over MQTT as fast as it can
#   HTTP flood the same, while that device posts over HTTP as fast as it can
# Printed: the quiet tenant's p50/p99 each time and the p99 ratio to the baseline (goal <= 2), and what
# the flood got through.
set -euo pipefail
source "$(dirname "$0")/bench_lib.sh"

QUIET_RATE="${BENCH_QUIET_RATE:-400}"
QUIET_MESSAGES="${BENCH_QUIET_MESSAGES:-200}"  # per quiet device
HTTP_PORT=18490
PULSE_BROKER_DEVICE_MESSAGES_PER_S=1000 PULSE_BROKER_TENANT_MESSAGES_PER_S=50000 bench_stack
# Both tenants send from 127.0.0.1 here: the per-address request limit (which would count them as one
# client) is off, the device and tenant budgets are at their defaults.
BENCH_BUDGETS="http.address_requests_per_s = 0" bench_config "$HTTP_PORT"
cat >"$STACK_DIR/etc/plugins.d/ingest.properties" <<CONF
plugin.library = ingest_http.so
instance.http.component = ingest/http
instance.http.config = {}
CONF
bench_fleet 20 quiet quiet
QUIET="$TOKENS"
bench_fleet 1 noisy noisy
NOISY="$TOKENS"
bench_start_pulsed "$HTTP_PORT"
URL="http://127.0.0.1:$HTTP_PORT"

quiet_run() { "$SIM" http --tokens "$QUIET" --url "$URL" --messages "$QUIET_MESSAGES" --rate "$QUIET_RATE" | tail -1; }
rows_of() { psql_owner "SELECT count(*) FROM pulse.telemetry x JOIN pulse.devices d ON d.id = x.device_id JOIN pulse.tenants t ON t.id = d.tenant_id WHERE t.slug = '$1'"; }

echo "fairness: 20 quiet devices at $QUIET_RATE msg/s over HTTP; one noisy device flooding; $(nproc) cores"
quiet_run >/dev/null  # warm-up
BASE=$(quiet_run)
echo "  baseline:   quiet p50 $(json "$BASE" p50_ms) ms, p99 $(json "$BASE" p99_ms) ms, $(json "$BASE" msgs_per_s) msg/s"

# under_flood <label> <fleet_sim mode and address...>: the quiet tenant measured while the noisy device
# floods; prints the quiet p50/p99, the p99 ratio to the baseline and what the flood got stored.
under_flood() {
    local label="$1" before under flood
    shift
    before=$(rows_of noisy)
    "$SIM" "$@" --tokens "$NOISY" --messages 2000000 >/dev/null 2>&1 &
    flood=$!
    sleep 2
    under=$(quiet_run)
    kill "$flood" 2>/dev/null
    wait "$flood" 2>/dev/null || true
    sleep 1
    echo "  $label: quiet p50 $(json "$under" p50_ms) ms, p99 $(json "$under" p99_ms) ms =" \
        "$(calc "$(json "$under" p99_ms) / $(json "$BASE" p99_ms)") x the baseline p99;" \
        "the flood got $(($(rows_of noisy) - before)) readings stored"
}

under_flood "MQTT flood" mqtt --uri "$PULSE_MQTT_DEVICE_URI"
echo "  the broker's budget refused the MQTT flood: $(grep -c 'over its budget' "$MQTT_DIR/data/mosquitto.log" || true)" \
    "log lines, one per 1000 refusals"
under_flood "HTTP flood" http --url "$URL"
