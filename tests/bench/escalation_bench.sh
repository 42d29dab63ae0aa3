#!/usr/bin/env bash
# tests/bench/escalation_bench.sh: how late escalation levels fire. Against a private PostgreSQL under var/bench
# (port 55462) and a release pulsed (build-release/), with a two-level policy (BENCH_DELAY_S, 5, between them)
# paging a log channel, in one run:
#   (baseline) BENCH_SPREAD (50) alerts whose first level comes due one every 100 ms: little at once;
#   (load)     BENCH_ALERTS (1000) alerts whose first level comes due at the same instant, and so their second
#              level BENCH_DELAY_S later, nearly at once again.
# The alerts are written as the owner (as if opened earlier by any instance), their level 1 due 3 s ahead, so
# that pulsed learns of them at its poll and sleeps until they are due, as it does for alerts another instance
# opened. Lateness = the ESCALATED event's time (clock_timestamp() in the firing transaction) - the level's due
# time, both on the database's clock. Prints p50, p99 and max per level and phase, the ratio load / baseline,
# and whether p99 is within the goal of 1 s (printed, not asserted).
set -euo pipefail
[ -n "${BENCH_TRACE:-}" ] && set -x
source "$(dirname "$0")/bench_lib.sh"

ALERTS="${BENCH_ALERTS:-1000}"
SPREAD="${BENCH_SPREAD:-50}"
DELAY_S="${BENCH_DELAY_S:-5}"
HTTP_PORT=18486

bench_stack
bench_config "$HTTP_PORT" "notify.poll_ms = 500"
echo "plugin.library = sender_log.so" >"$STACK_DIR/etc/plugins.d/log.properties"
echo "plugin.library = rule_threshold.so" >"$STACK_DIR/etc/plugins.d/rules.properties"
psql_owner "INSERT INTO pulse.tenants (slug, name) VALUES ('bench', 'bench')"
"${PULSED[@]}" --create-channel bench/pages --type log --json '{"include_payload": false}' >/dev/null
tenant=$(psql_owner "SELECT id FROM pulse.tenants WHERE slug = 'bench'")
channel=$(psql_owner "SELECT id FROM pulse.channels WHERE name = 'pages'")
policy=$(psql_owner "WITH p AS (INSERT INTO pulse.escalation_policies (tenant_id, name) VALUES ('$tenant', 'bench')
    RETURNING id), l AS (INSERT INTO pulse.escalation_levels (tenant_id, policy_id, level, delay_s)
    SELECT '$tenant', p.id, g, $DELAY_S FROM p, generate_series(1, 2) g RETURNING policy_id, level)
    INSERT INTO pulse.escalation_targets (tenant_id, policy_id, level, channel_id)
    SELECT '$tenant', policy_id, level, '$channel' FROM l RETURNING policy_id" | head -1)
rule=$(psql_owner "INSERT INTO pulse.rules (tenant_id, name, type, severity, enabled) VALUES ('$tenant', 'bench',
    'threshold', 'HIGH', false) RETURNING id")
psql_owner "INSERT INTO pulse.devices (tenant_id, name) SELECT '$tenant', 'dev-' || g
    FROM generate_series(1, $((ALERTS + SPREAD))) g" >/dev/null
bench_start_pulsed "$HTTP_PORT"

# open_alerts <phase> <count> <first due, s ahead> <ms between>: alerts on devices not used yet, level 1 due so.
open_alerts() {
    psql_owner "INSERT INTO pulse.alerts (tenant_id, rule_id, device_id, severity, summary, triggered_at,
        escalation_policy_id, next_escalation_at)
        SELECT '$tenant', '$rule', d.id, 'HIGH', '$1', now(), '$policy',
               now() + make_interval(secs => $3) + (row_number() OVER (ORDER BY d.id) - 1) * interval '$4 ms'
        FROM pulse.devices d WHERE d.tenant_id = '$tenant'
          AND NOT EXISTS (SELECT 1 FROM pulse.alerts a WHERE a.device_id = d.id)
        ORDER BY d.id LIMIT $2" >/dev/null
}
# wait_fired <phase> <events>: until the phase's alerts have that many ESCALATED events.
wait_fired() {
    local n
    for _ in $(seq 600); do
        n=$(psql_owner "SELECT count(*) FROM pulse.alert_events e JOIN pulse.alerts a ON a.id = e.alert_id
            WHERE a.summary = '$1' AND e.kind = 'ESCALATED'")
        [ "$n" -ge "$2" ] && return 0
        sleep 0.2
    done
    die "only $n of $2 levels fired for $1"
}
# lateness <phase> <level>: "p50 p99 max" in ms.
lateness() {
    psql_owner "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1) || ' ' ||
        round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1) || ' ' || round(max(ms)::numeric, 1)
        FROM (SELECT extract(epoch FROM e.at - (e.detail->>'due_at')::timestamptz) * 1000 AS ms
              FROM pulse.alert_events e JOIN pulse.alerts a ON a.id = e.alert_id
              WHERE a.summary = '$1' AND e.kind = 'ESCALATED' AND e.detail->>'level' = '$2') x"
}

open_alerts baseline "$SPREAD" 3 100
wait_fired baseline $((SPREAD * 2))
open_alerts load "$ALERTS" 3 0
wait_fired load $((ALERTS * 2))
pages=$(psql_owner "SELECT count(*) FROM pulse.deliveries WHERE escalation_level IS NOT NULL")

echo "escalation lateness (level fired - level due, ms; p50 p99 max), $DELAY_S s between levels:"
read -r b1p50 b1p99 b1max <<<"$(lateness baseline 1)"
read -r b2p50 b2p99 b2max <<<"$(lateness baseline 2)"
read -r l1p50 l1p99 l1max <<<"$(lateness load 1)"
read -r l2p50 l2p99 l2max <<<"$(lateness load 2)"
printf "  baseline, %d alerts 100 ms apart: level 1 %s %s %s, level 2 %s %s %s\n" "$SPREAD" \
    "$b1p50" "$b1p99" "$b1max" "$b2p50" "$b2p99" "$b2max"
printf "  load, %d alerts due at once:       level 1 %s %s %s, level 2 %s %s %s\n" "$ALERTS" \
    "$l1p50" "$l1p99" "$l1max" "$l2p50" "$l2p99" "$l2max"
worst_load=$(awk -v a="$l1p99" -v b="$l2p99" 'BEGIN { print (a > b ? a : b) }')
worst_base=$(awk -v a="$b1p99" -v b="$b2p99" 'BEGIN { print (a > b ? a : b) }')
echo "  p99 load / baseline: $(calc "$worst_load / ($worst_base > 0 ? $worst_base : 1)")x; pages queued: $pages"
echo "  goal p99 < 1000 ms at $ALERTS alerts: $(awk -v w="$worst_load" 'BEGIN { print (w < 1000 ? "met" : "NOT met") }')"
