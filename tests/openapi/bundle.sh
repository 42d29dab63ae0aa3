#!/usr/bin/env bash
# tests/openapi/bundle.sh [--check]: bundles the OpenAPI sources (docs/openapi/openapi.yaml and the files it
# refers to) into docs/openapi.json, the single document pulsed compiles in and serves at
# /api/v1/openapi.json. Run it after editing docs/openapi/. With --check it writes nothing and fails when
# docs/openapi.json is not the bundle of the sources (the ctest openapi.bundle_current).
#
# The output is the same bytes for the same sources: Redocly keeps the sources' key order (the root lists
# every component, so components keep theirs), JSON.stringify indents by two spaces, and a newline ends it.
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$dir/../.." && pwd)"
document="$root/docs/openapi.json"
fresh="$(mktemp)"
trap 'rm -f "$fresh"' EXIT
"$dir/redocly.sh" bundle --config "$dir/redocly.yaml" "$root/docs/openapi/openapi.yaml" --ext json >"$fresh"
echo >>"$fresh"
if [ "${1:-}" != "--check" ]; then
    cat "$fresh" >"$document"
    exit 0
fi
if ! cmp -s "$fresh" "$document"; then
    diff -u "$document" "$fresh" | head -60 >&2 || true
    echo "docs/openapi.json is not the bundle of docs/openapi/; regenerate it: tests/openapi/bundle.sh" >&2
    exit 1
fi
