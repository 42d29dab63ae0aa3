# shellcheck shell=bash
# What the benchmarks share: a release build, a fresh private stack under var/bench (ports 55462,
# 51913), a pulsed configuration with the MQTT ingest channel, and a provisioned fleet.
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
cd "$PULSE_ROOT"

BENCH_PIDS=()
bench_cleanup() {
    local rc=$?
    for p in "${BENCH_PIDS[@]}"; do { kill "$p" && wait "$p"; } 2>/dev/null || true; done
    stack_down
    exit "$rc"
}

# bench_stack: builds build-release/, starts an empty stack, and stops it (and BENCH_PIDS) on exit.
bench_stack() {
    ensure_packages
    configure_and_build build-release RelWithDebInfo -DPULSE_BUILD_TESTS=OFF >/dev/null
    SIM=build-release/bin/fleet_sim
    stack_env "$PULSE_ROOT/var/bench" 55462 51913
    stack_down
    rm -rf "$STACK_DIR/pg" "$STACK_DIR/mqtt"
    trap bench_cleanup EXIT
    # Throughput benchmarks measure capacity: the broker's per-device budget is off unless a benchmark
    # sets it (fairness_bench.sh keeps the defaults).
    : "${PULSE_BROKER_DEVICE_MESSAGES_PER_S:=0}" "${PULSE_BROKER_TENANT_MESSAGES_PER_S:=0}"
    export PULSE_BROKER_DEVICE_MESSAGES_PER_S PULSE_BROKER_TENANT_MESSAGES_PER_S
    stack_up >/dev/null
}

# bench_config <http-port> [extra properties]: etc/pulse.properties and the MQTT ingest channel under
# $STACK_DIR/etc; sets PULSED (the command) and migrates.
bench_config() {
    mkdir -p "$STACK_DIR/etc/plugins.d"
    cat >"$STACK_DIR/etc/pulse.properties" <<CONF
http.port = $1
db.migrations_dir = $PULSE_ROOT/sql
plugins.path = $PULSE_ROOT/build-release/lib/pulse/plugins
plugins.config_dir = plugins.d
log.level = warn
${BENCH_BUDGETS-ingest.device_readings_per_s = 0
ingest.tenant_readings_per_s = 0
http.address_requests_per_s = 0}
${2:-}
CONF
    cat >"$STACK_DIR/etc/plugins.d/mqtt.properties" <<CONF
plugin.library = ingest_mqtt.so
instance.mqtt.component = ingest/mqtt
instance.mqtt.config = {"uri_env": "PULSE_MQTT_URI", "password_env": "PULSE_MQTT_INGEST_PASSWORD", "client_id": "bench", "share_group": "pulse", "connections": 2}
CONF
    PULSED=(build-release/bin/pulsed --config "$STACK_DIR/etc/pulse.properties")
    "${PULSED[@]}" --migrate 2>/dev/null
}

psql_owner() { psql "$PULSE_DB_MIGRATE_URI" -Atqc "$1"; }
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }
json() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

# bench_fleet <devices> [name prefix] [tenant]: tenant "bench" (or the one named) with <prefix>-1..N
# (default dev); their tokens in $TOKENS (fleet_sim's format), a file per prefix.
bench_fleet() {
    local prefix="${2:-dev}" tenant="${3:-bench}" i token
    psql_owner "INSERT INTO pulse.tenants (slug, name) VALUES ('$tenant', '$tenant') ON CONFLICT DO NOTHING"
    TOKENS="$STACK_DIR/tokens-$prefix.txt"
    : >"$TOKENS"
    for i in $(seq 1 "$1"); do
        token=$("${PULSED[@]}" --create-device "$tenant/$prefix-$i" 2>/dev/null | awk '/^token:/{print $2}')
        echo "device $tenant/$prefix-$i token $token" >>"$TOKENS"
    done
}

# cpu_seconds: user + system CPU seconds used so far by pulsed (the last of BENCH_PIDS) and by every
# process of the stack's PostgreSQL (the postmaster's children), as "<pulsed> <postgres>". A process that
# ended in between is not counted (pulsed's connections stay open).
cpu_seconds() {
    local postmaster pg=0 p
    postmaster=$(head -1 "$PGDATA_DIR/postmaster.pid")
    for p in $(pgrep -P "$postmaster"); do
        [ -r "/proc/$p/stat" ] && pg=$((pg + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    awk -v a="$(awk '{print $14 + $15}' "/proc/${BENCH_PIDS[-1]}/stat")" -v b="$pg" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%.2f %.2f", a / hz, b / hz }'
}
# cpu_report <label> <before> <after> <readings>: the CPU the readings cost each, in µs per reading.
cpu_report() {
    awk -v l="$1" -v b="$2" -v a="$3" -v n="$4" 'BEGIN { split(b, x, " "); split(a, y, " ");
        printf "    CPU during %s: pulsed %.2f s, PostgreSQL %.2f s = %.2f / %.2f us per reading\n", l,
            y[1] - x[1], y[2] - x[2], (y[1] - x[1]) * 1e6 / n, (y[2] - x[2]) * 1e6 / n }'
}

# bench_start_pulsed <http-port>: starts pulsed in the background and waits until it is ready.
bench_start_pulsed() {
    "${PULSED[@]}" 2>"$STACK_DIR/pulsed.log" &
    BENCH_PIDS+=($!)
    wait_for_port "$1" 30
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/health/ready" >/dev/null && break; sleep 0.1; done
}

# histogram_quantiles <before> <after> <metric> <q>...: from two /metrics scrapes, the upper bound of the
# bucket holding each quantile of what was observed in between ("<= 10 ms"), and the count.
histogram_quantiles() {
    python3 - "$@" <<'PY'
import re, sys
before, after, name, qs = sys.argv[1], sys.argv[2], sys.argv[3], [float(q) for q in sys.argv[4:]]
def buckets(path):
    out = {}
    for line in open(path):
        m = re.match(name + r'_bucket\{.*le="([^"]+)".*\} (\S+)', line)
        if m: out[float(m.group(1))] = float(m.group(2))
    return out
b, a = buckets(before), buckets(after)
bounds = sorted(a)
cum = [(le, a[le] - b.get(le, 0)) for le in bounds]
total = cum[-1][1] if cum else 0
parts = []
for q in qs:
    le = next((le for le, c in cum if total and c >= q * total), float('inf'))
    parts.append("p%g <= %s" % (q * 100, "inf" if le == float('inf') else "%g ms" % (le * 1000)))
print(", ".join(parts) + " (%d messages)" % total)
PY
}
