#!/usr/bin/env bash
# spa/e2e/run.sh <spec file>: one browser test file under ctest. Needs spa/dist and spa/node_modules, which
# scripts/test builds first, and the test stack's environment (scripts/test exports it).
set -euo pipefail
spec="$1"
spa="$(cd "$(dirname "$0")/.." && pwd)"
[ -f "$spa/dist/index.html" ] || { echo "spa/dist is not built: run scripts/test, or scripts/build-spa" >&2; exit 1; }
[ -x "$spa/node_modules/.bin/playwright" ] || { echo "spa/node_modules is missing: run scripts/build-spa" >&2; exit 1; }
cd "$spa"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export PULSE_E2E_SPEC="$(basename "$spec" .spec.ts)"
export PULSE_E2E_OUTPUT="${PULSE_E2E_OUTPUT:-${TMPDIR:-/tmp}/pulse-e2e-$(basename "$spec" .spec.ts)}"
exec node_modules/.bin/playwright test -c e2e/playwright.config.ts "$spec"
