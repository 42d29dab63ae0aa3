#!/usr/bin/env bash
# tests/bench/notify_bench.sh: breach -> delivered, per sender. Against a private PostgreSQL and Mosquitto under
# var/bench (ports 55462, 51913) and a release build in build-release/, in one run:
#   (1) the MQTT ingest rate of this run, as ingest_bench.sh (b) measures it (publish -> committed rows);
#   (2) one probe device publishes a breaching reading over MQTT (mosquitto_pub -l, connected beforehand), then
#       its recovery; a tenant-wide THRESHOLD rule opens and closes an alert, routed to four channels: a signed
#       webhook (tests/standins/webhook_receiver.py), Slack, PagerDuty and Teams (their strict stand-ins), and
#       e-mail to the real aiosmtpd of tests/standins/smtp_server.py (its plaintext listener, no AUTH). The
#       time from the reading's own ts to the opening notice's arrival at each stand-in (both on this machine's
#       clock) is taken per sender: BENCH_BREACHES breaches with no other load, then as many with the fleet
#       publishing at half of (1) in the background. Prints p50, p99, max per sender and the ratio loaded /
#       unloaded. Goal p99 < 50 ms for the HTTP senders (printed, not asserted);
#   (3) e-mails per second: BENCH_MAILS deliveries put in the outbox at once for one SMTP channel (4 at a time,
#       STARTTLS and AUTH on the submission listener), first with a connection per mail (keep_connection
#       false: the baseline), then with connections kept and reused; prints both rates, the ratio, and how
#       many connections the server saw.
# A breach every BENCH_GAP_MS (2100: Slack takes one message per second per webhook, and each breach is two
# messages, its opening and its closing). BENCH_DEVICES (20), BENCH_MESSAGES per device for (1) (2000).
set -euo pipefail
[ -n "${BENCH_TRACE:-}" ] && set -x
source "$(dirname "$0")/bench_lib.sh"

DEVICES="${BENCH_DEVICES:-20}"
MESSAGES="${BENCH_MESSAGES:-2000}"
BREACHES="${BENCH_BREACHES:-40}"
MAILS="${BENCH_MAILS:-400}"
GAP_MS="${BENCH_GAP_MS:-2100}"
HTTP_PORT=18484
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
SLACK_PATH=/services/T0BENCH/B0BENCH/abcdefghijklmnopqrstuvwx
ROUTING_KEY=R0123456789ABCDEF0123456789ABCDE
TEAMS_PATH=/workflows/0bench/triggers/manual/paths/invoke
TEAMS_QUERY='?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=bench'
command -v mosquitto_pub >/dev/null || die "mosquitto_pub is missing (mosquitto-clients)"

bench_stack
bench_config "$HTTP_PORT" "egress.allow = 127.0.0.1/32
notify.poll_ms = 500"
echo "plugin.library = rule_threshold.so" >"$STACK_DIR/etc/plugins.d/rules.properties"
for s in webhook slack pagerduty teams smtp; do echo "plugin.library = sender_$s.so" >"$STACK_DIR/etc/plugins.d/$s.properties"; done

# The stand-ins, each on a free port written to a file.
standin() {  # standin <name> <script> [args...]
    local name="$1" script="$2"
    shift 2
    /usr/bin/python3 "tests/standins/$script" --port-file "$STACK_DIR/$name.port" "$@" >"$STACK_DIR/$name.log" 2>&1 &
    BENCH_PIDS+=("$!")
}
rm -f "$STACK_DIR"/*.port
standin webhook webhook_receiver.py --secret "$SECRET"
standin slack slack_standin.py
standin pagerduty pagerduty_standin.py
standin teams teams_standin.py --sig bench
standin smtp smtp_server.py --user bench --password bench-relay-pass
for s in webhook slack pagerduty teams smtp; do
    for _ in $(seq 100); do [ -s "$STACK_DIR/$s.port" ] && break; sleep 0.05; done
    [ -s "$STACK_DIR/$s.port" ] || die "the $s stand-in did not start: $(cat "$STACK_DIR/$s.log")"
done
port() { cat "$STACK_DIR/$1.port"; }

psql_owner "INSERT INTO pulse.tenants (slug, name) VALUES ('bench', 'bench') ON CONFLICT DO NOTHING"
"${PULSED[@]}" --create-rule bench/breach --type threshold --severity CRITICAL \
    --json '{"metric":"breach","operator":"GT","threshold":0.5,"hold_for_s":0}' >/dev/null
# One probe breaches again and again: it must not be held as flapping (which notifies nobody).
psql_owner "UPDATE pulse.rules SET flap_threshold = 1000000, flap_window_s = 1 WHERE name = 'breach'"
"${PULSED[@]}" --create-channel bench/webhook --type webhook \
    --json "{\"url\":\"http://127.0.0.1:$(port webhook)/ok\",\"secret\":\"$SECRET\"}" >/dev/null
"${PULSED[@]}" --create-channel bench/slack --type slack \
    --json "{\"url\":\"http://127.0.0.1:$(port slack)$SLACK_PATH\"}" >/dev/null
"${PULSED[@]}" --create-channel bench/pagerduty --type pagerduty \
    --json "{\"routing_key\":\"$ROUTING_KEY\",\"url\":\"http://127.0.0.1:$(port pagerduty)/v2/enqueue\"}" >/dev/null
"${PULSED[@]}" --create-channel bench/teams --type teams \
    --json "{\"url\":\"http://127.0.0.1:$(port teams)$TEAMS_PATH$TEAMS_QUERY\"}" >/dev/null
SMTP_INFO=$(curl -sf "http://127.0.0.1:$(port smtp)/_info")
smtp_port() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['ports'][sys.argv[2]])" "$SMTP_INFO" "$1"; }
"${PULSED[@]}" --create-channel bench/mail --type smtp \
    --json "{\"host\":\"127.0.0.1\",\"port\":$(smtp_port plain),\"tls\":\"none\",\"from\":\"alerts@bench.example.com\",\"to\":[\"oncall@example.com\"]}" >/dev/null
bench_fleet "$DEVICES" dev bench  # the background fleet (temperature, humidity: no rule)
probe=$("${PULSED[@]}" --create-device bench/probe 2>/dev/null | awk '/^token:/{print $2}')
"${PULSED[@]}" &
BENCH_PIDS+=("$!")
wait_for_port "$HTTP_PORT" 30 || die "pulsed did not start"
sleep 1  # the broker reloads its password file

fleet_rows() { psql_owner "SELECT count(*) FROM pulse.telemetry t JOIN pulse.devices d ON d.id = t.device_id WHERE d.name LIKE 'dev-%'"; }
TOTAL=$((DEVICES * MESSAGES))
echo "notify benchmark: $BREACHES breaches per phase, one every $GAP_MS ms, 5 channels; $DEVICES background devices; $(nproc) cores"

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

# The probe's publisher, connected once (a FIFO feeds mosquitto_pub -l), so that connecting is not timed.
FIFO="$STACK_DIR/probe.fifo"
rm -f "$FIFO" && mkfifo "$FIFO"
mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -u bench/probe -P "$probe" -t devices/bench/probe/telemetry -l <"$FIFO" &
BENCH_PIDS+=("$!")
exec 3>"$FIFO"
sleep 1
now_ms() { date +%s%3N; }
breaches() {  # breaches <n>: each a breaching reading, then its recovery half a gap later
    local i half=$((GAP_MS / 2))
    for i in $(seq 1 "$1"); do
        echo "{\"ts\":$(now_ms),\"breach\":1}" >&3
        sleep "$(calc "$half / 1000")"
        echo "{\"ts\":$(now_ms),\"breach\":0}" >&3
        sleep "$(calc "($GAP_MS - $half) / 1000")"
    done
    sleep 3  # the last notices (Slack's paced closing) arrive
}
mark() { psql_owner "SELECT coalesce(max(id), 0) FROM pulse.alerts"; }

# (2a) no background load
idle_from=$(mark)
breaches "$BREACHES"
idle_to=$(mark)
# (2b) the fleet at half of (1) in the background, for longer than the phase takes
BG_SECONDS=$((BREACHES * GAP_MS / 1000 + 20))
"$SIM" mqtt --tokens "$TOKENS" --uri "$PULSE_MQTT_DEVICE_URI" --messages $((HALF * BG_SECONDS / DEVICES)) \
    --rate "$HALF" >/dev/null &
BG_PID=$!
BENCH_PIDS+=("$BG_PID")
sleep 2
rows_before=$(fleet_rows)
t0=$(date +%s.%N)
breaches "$BREACHES"
rows_after=$(fleet_rows)
t1=$(date +%s.%N)
load_to=$(mark)
kill -0 "$BG_PID" 2>/dev/null || echo "    (the background load ended before the phase did: its rate below is an average over less)"
{ kill "$BG_PID" && wait "$BG_PID"; } 2>/dev/null || true
BG_RATE=$(awk "BEGIN { printf \"%d\", ($rows_after - $rows_before) / 3 / ($t1 - $t0) }")

# Per sender: the opening notice's arrival at its stand-in minus the breaching reading's own ts.
psql_owner "SELECT id, (extract(epoch FROM triggered_at) * 1000)::bigint FROM pulse.alerts WHERE id > $idle_from" \
    >"$STACK_DIR/alerts.txt"
for s in webhook slack pagerduty teams smtp; do curl -sf "http://127.0.0.1:$(port "$s")/_log" >"$STACK_DIR/$s.json"; done
# Where the time goes: when the alert was committed (opened_at, the alert writer's transaction) and when each
# channel's first attempt began, per opening notice.
psql_owner "SELECT a.id, (extract(epoch FROM a.opened_at) * 1000)::bigint, c.name,
        (extract(epoch FROM min(t.started_at)) * 1000)::bigint
    FROM pulse.alerts a JOIN pulse.deliveries d ON d.alert_id = a.id AND d.payload::jsonb->>'type' = 'alert.opened'
    JOIN pulse.channels c ON c.id = d.channel_id JOIN pulse.delivery_attempts t ON t.delivery_id = d.id
    WHERE a.id > $idle_from GROUP BY a.id, a.opened_at, c.name" >"$STACK_DIR/stages.txt"
echo "(2) breaching reading over MQTT -> its opening notice at the receiver:"
python3 - "$STACK_DIR" "$idle_from" "$idle_to" "$load_to" "$HALF" "$BG_RATE" "$B" <<'PY'
import json, re, sys
d, idle_from, idle_to, load_to, half, bg, b = sys.argv[1], *map(int, sys.argv[2:])
triggered = {}
for line in open(f"{d}/alerts.txt"):
    a, t = line.strip().split("|")
    triggered[int(a)] = int(t)

def opened(sender, r):  # the alert id of an opening notice, or None
    body = r.get("body") or {}
    if sender == "webhook":
        return body.get("alert", {}).get("id") if body.get("type") == "alert.opened" else None
    if sender == "smtp":
        h = r.get("headers") or {}
        return int(h["x-pulse-alert"]) if h.get("x-pulse-event") == "alert.opened" and "x-pulse-alert" in h else None
    if sender == "pagerduty":
        return body.get("payload", {}).get("custom_details", {}).get("alert_id") if body.get("event_action") == "trigger" else None
    text = json.dumps(body)
    if "alert opened" not in text:
        return None
    m = re.search(r"alert (\d+)", text.replace("\\u00b7", "·"))
    return int(m.group(1)) if m else None

def stats(ms):
    ms = sorted(ms)
    if not ms:
        return None
    return ms[len(ms) // 2], ms[min(len(ms) - 1, len(ms) * 99 // 100)], ms[-1], len(ms)

rows = []
for sender in ("webhook", "slack", "pagerduty", "teams", "smtp"):
    arrivals = {}
    for r in json.load(open(f"{d}/{sender}.json"))["requests"]:
        at = r.get("at_ms", r.get("arrived_ms"))
        a = opened(sender, r)
        if a is not None and a not in arrivals and (r.get("status") or 0) < 300:  # SMTP's 250 included
            arrivals[a] = at
    phases = []
    for lo, hi in ((idle_from, idle_to), (idle_to, load_to)):
        phases.append(stats([arrivals[a] - triggered[a] for a in triggered if lo < a <= hi and a in arrivals]))
    n = sum(1 for a in triggered if idle_from < a <= idle_to)
    rows.append((sender, phases, n))
    fmt = lambda s: "p50 %4.0f ms, p99 %4.0f ms, max %4.0f ms (%d)" % s if s else "none arrived"
    print("    %-10s no load: %s;  at %d msgs/s: %s" % (sender, fmt(phases[0]), half, fmt(phases[1])))
    if phases[0] and phases[1]:
        print("    %-10s loaded / unloaded p99: %.2f x" % ("", phases[1][1] / phases[0][1] if phases[0][1] else 0))
stages = {}  # alert -> (opened_ms, {channel: first attempt ms})
for line in open(f"{d}/stages.txt"):
    a, opened_ms, channel, started = line.strip().split("|")
    stages.setdefault(int(a), (int(opened_ms), {}))[1][channel] = int(started)
print("    where the time goes (p50 / p99 ms; no load | at %d msgs/s):" % half)
def pair(values):
    s = stats(values)
    return "%4.0f / %4.0f" % (s[0], s[1]) if s else "   - /    -"
for label, fn in (("reading ts -> alert committed", lambda a, ch: stages[a][0] - triggered[a]),
                  ("alert committed -> first attempt", lambda a, ch: stages[a][1][ch] - stages[a][0])):
    for ch in ("webhook", "mail") if "attempt" in label else ("webhook",):
        cols = []
        for lo, hi in ((idle_from, idle_to), (idle_to, load_to)):
            cols.append(pair([fn(a, ch) for a in triggered if lo < a <= hi and a in stages and ch in stages[a][1]]))
        print("      %-34s %-8s %s | %s" % (label, ch if "attempt" in label else "", cols[0], cols[1]))
print("    background achieved %d msgs/s committed during the phase (%.2f x (1), target 0.50)" % (bg, bg / b if b else 0))
http = [p for s, p, _ in rows if s != "smtp"]
met = all(p[1] and p[1][1] < 50 for p in http)
print("    goal p99 < 50 ms under load for the HTTP senders: %s" % ("met" if met else "not met"))
PY
exec 3>&-

# (3) e-mails per second, through the submission listener (STARTTLS, AUTH PLAIN): a connection per mail, then
# connections kept. The mails are copies of the real opening notices of (2) put in the outbox at once, one per
# alert in turn (notices of one alert to one channel go one after another, in order).
CA_FILE="$STACK_DIR/smtp-ca.pem"
python3 -c "import json,sys; open(sys.argv[2],'w').write(json.loads(sys.argv[1])['ca_pem'])" "$SMTP_INFO" "$CA_FILE"
mail_rate() {  # mail_rate <channel> <keep_connection>
    local name="$1" keep="$2"
    python3 - "$SMTP_INFO" "$keep" >"$STACK_DIR/$name.json" <<'PY'
import json, sys
info, keep = json.loads(sys.argv[1]), sys.argv[2] == "true"
print(json.dumps({"host": "127.0.0.1", "port": info["ports"]["submission"], "username": "bench",
                  "password": "bench-relay-pass", "ca_certificate": info["ca_pem"], "keep_connection": keep,
                  "from": "alerts@bench.example.com", "to": ["rate@example.com"]}))
PY
    "${PULSED[@]}" --create-channel "bench/$name" --type smtp --json "$(cat "$STACK_DIR/$name.json")" >/dev/null
    curl -sf -X POST "http://127.0.0.1:$(port smtp)/_clear" >/dev/null
    sleep 1  # pulsed picks up the new channel
    psql_owner "INSERT INTO pulse.deliveries (tenant_id, alert_id, event_id, channel_id, payload, max_attempts)
        SELECT d.tenant_id, d.alert_id, d.event_id, c.id, d.payload, 3
        FROM generate_series(1, $MAILS) g,
             (SELECT DISTINCT ON (alert_id) * FROM pulse.deliveries WHERE payload::jsonb->>'type' = 'alert.opened'
              ORDER BY alert_id, id) d,
             pulse.channels c WHERE c.name = '$name' LIMIT $MAILS" >/dev/null || return 1
    local waited=0
    while [ "$(psql_owner "SELECT count(*) FROM pulse.deliveries d JOIN pulse.channels c ON c.id = d.channel_id WHERE c.name = '$name' AND d.status = 'DONE'")" -lt "$MAILS" ]; do
        sleep 0.2
        waited=$((waited + 1))
        [ "$waited" -lt 600 ] || { echo "    (3) $name: timed out" >&2; break; }
    done
    psql_owner "SELECT round(count(*) / greatest(extract(epoch FROM max(a.started_at + a.duration_ms * interval '1 ms') - min(a.started_at)), 0.001))
        FROM pulse.delivery_attempts a JOIN pulse.deliveries d ON d.id = a.delivery_id JOIN pulse.channels c ON c.id = d.channel_id
        WHERE c.name = '$name' AND a.outcome = 'DELIVERED'"
}
echo "(3) e-mails per second to the local SMTP server (STARTTLS + AUTH, 4 at a time, $MAILS mails):"
fresh=$(mail_rate mail-fresh false) || die "(3) the baseline run failed"
fresh_conns=$(curl -sf "http://127.0.0.1:$(port smtp)/_log" | python3 -c "import json,sys; print(json.load(sys.stdin)['connections'])")
kept=$(mail_rate mail-kept true) || die "(3) the run with connections kept failed"
kept_conns=$(curl -sf "http://127.0.0.1:$(port smtp)/_log" | python3 -c "import json,sys; print(json.load(sys.stdin)['connections'])")
echo "    a connection per mail (baseline): $fresh mails/s over $fresh_conns connections"
echo "    connections kept and reused:      $kept mails/s over $kept_conns connections ($(calc "$kept / $fresh") x the baseline)"
