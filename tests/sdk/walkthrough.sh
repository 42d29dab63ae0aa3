#!/usr/bin/env bash
# tests/sdk/walkthrough.sh <build-dir> <source-dir>: runs every command of docs/plugin-guide.md's
# walk-through (the sh blocks between its walkthrough markers), as written, in an empty folder: the SDK
# installed from this build, the push sender written, built and checked, loaded by a pulsed of this build
# against the test stack's database, and a breaching reading delivered to the guide's receiver.
# Device, rule and channel names and the ports are chosen here so that repeated runs do not collide.
set -euo pipefail
build="$(cd "$1" && pwd)"
src="$(cd "$2" && pwd)"
work="$(mktemp -d)"
script="$work/walkthrough.sh"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
session=""
cleanup() {
    local rc=$?
    # Whatever the guide started and did not stop (a failing step leaves them running): its session.
    [ -n "$session" ] && pkill -s "$session" 2>/dev/null || true
    if [ "$rc" -ne 0 ]; then
        echo "--- pulsed.log"; cat "$work/run/pulsed.log" 2>/dev/null | tail -40 || true
        echo "--- pushes.log"; cat "$work/run/pushes.log" 2>/dev/null || true
    fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT

awk '/<!-- walkthrough:begin -->/{on=1} /<!-- walkthrough:end -->/{on=0}
     on && /^```sh$/{block=1; next} on && block && /^```$/{block=0; next} on && block' \
    "$src/docs/plugin-guide.md" >"$script"
[ "$(grep -c . "$script")" -gt 20 ] || { echo "no walk-through found in docs/plugin-guide.md" >&2; exit 1; }

mkdir -p "$work/run"
cd "$work/run"
suffix="$$-$RANDOM"
# The demo tenant the guide sends in: created here when this database has none (scripts/run seeds it).
PULSE_DEMO_PASSWORD="${PULSE_DEMO_PASSWORD:-walkthrough-$RANDOM$RANDOM}" \
    "$build/bin/pulsed" --config "$src/etc/pulse.properties" --seed-demo >"$work/seed.log" 2>&1 ||
    { cat "$work/seed.log" >&2; exit 1; }
env PULSE="$src" BUILD="$build" PORT="$(free_port)" PUSH_PORT="$(free_port)" \
    DEVICE="kettle-$suffix" RULE="boiling-$suffix" CHANNEL="phone-$suffix" \
    setsid timeout 240 bash -euo pipefail "$script" &
session=$!
wait "$session"
grep -q "Bearer walkthrough-token .*\"title\":\"CRITICAL alert opened: boiling-$suffix\"" pushes.log
echo "walk-through: every command ran, and the push arrived"
