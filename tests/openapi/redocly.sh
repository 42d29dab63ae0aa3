#!/usr/bin/env bash
# tests/openapi/redocly.sh <redocly arguments...>: runs Redocly CLI (pinned in package-lock.json) from
# tests/openapi, installing it into tests/openapi/node_modules on first use. lint.sh and bundle.sh use it.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$PULSE_ROOT/tests/openapi"
ensure_npm
if [ ! -x node_modules/.bin/redocly ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error >&2  # stdout is the bundle
fi
export REDOCLY_TELEMETRY=off  # no usage reports: tests reach loopback only
exec node_modules/.bin/redocly "$@"
