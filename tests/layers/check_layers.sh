#!/usr/bin/env bash
# tests/layers/check_layers.sh: the layering rules of docs/architecture.md ("Layers"), checked on the
# sources: routes hold no SQL (data access is in core/storage/), and libpq is reached only from there.
set -euo pipefail
cd "$(dirname "$0")/../.."
status=0
# SQL as routes would write it: statements and the schema's tables (HTTP method names are not SQL).
if grep -rnE '(SELECT .* FROM|INSERT INTO|UPDATE pulse\.|DELETE FROM|FROM pulse\.|conn\.query|withTenant\(|PgConnection&)' \
    core/http; then
    echo "core/http must not hold SQL or use connections: move it into a core/storage/ object" >&2
    status=1
fi
if grep -rln '<libpq-fe.h>' core | grep -v '^core/storage/'; then
    echo "<libpq-fe.h> belongs to core/storage/ only" >&2
    status=1
fi
exit $status
