#!/usr/bin/env bash
# Installs the SDK from the build tree into a scratch prefix, builds examples/rule_flatline against that
# installed SDK only (find_package(PulseSDK)), runs the installed conformance runner on it, and checks
# that pulsed --list-plugins loads it from a plugins.d entry.
set -euo pipefail
build="$1"
src="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --component sdk --prefix "$work/sdk" >/dev/null
test -f "$work/sdk/include/pulse/plugin.h"
test -x "$work/sdk/bin/pulse-plugin-check"

cmake -S "$src/examples/rule_flatline" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/sdk" >/dev/null
cmake --build "$work/build"
"$work/sdk/bin/pulse-plugin-check" "$work/build/rule_flatline.so"

mkdir -p "$work/etc/plugins.d"
cat >"$work/etc/pulse.properties" <<CONF
db.uri = host=127.0.0.1 dbname=unused
plugins.path = $work/build
plugins.config_dir = plugins.d
CONF
cat >"$work/etc/plugins.d/flatline.properties" <<CONF
plugin.library = rule_flatline.so
instance.stuck_temperature.component = rule/flatline
instance.stuck_temperature.config = {"metric": "temperature", "samples": 5}
CONF
out="$("$build/bin/pulsed" --list-plugins --config "$work/etc/pulse.properties")"
echo "$out"
grep -Eq "rule_flatline +0.3.0 +ABI 1.4  rule/flatline" <<<"$out"
grep -Eq "stuck_temperature +rule/flatline +valid" <<<"$out"
grep -q "Refused (0)" <<<"$out"
echo "out-of-tree example: built against the installed SDK, conformant, loaded by pulsed"
