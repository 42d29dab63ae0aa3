#!/usr/bin/env bash
# tests/openapi/lint.sh: lints the OpenAPI sources (docs/openapi/openapi.yaml and the files it refers to)
# with Redocly CLI, strict recommended rules: a warning fails. .redocly.lint-ignore.yaml lists the findings
# accepted on purpose.
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$dir/../.." && pwd)"
exec "$dir/redocly.sh" lint --config "$dir/redocly.yaml" "$root/docs/openapi/openapi.yaml"
