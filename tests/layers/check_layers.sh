#!/usr/bin/env bash
# tests/layers/check_layers.sh: the layering rules of docs/architecture.md ("Layers"), checked on the
# sources: outside core/storage/ no code holds SQL or uses connections (data access is in core/storage/),
# and libpq is reached only from there.
set -euo pipefail
cd "$(dirname "$0")/../.."
# Every layer but storage: none holds SQL or a connection of either pool.
mapfile -t no_sql_paths < <(find core -mindepth 1 -maxdepth 1 -type d ! -name storage | sort)
status=0
# SQL as services and routes would write it: statements and the schema's tables (HTTP method names are not
# SQL), and the connections that run it.
if grep -rnE '(SELECT .* FROM|INSERT INTO|UPDATE pulse\.|DELETE FROM|FROM pulse\.|conn\.query|withTenant\(|PgConnection&|Poco::Data::Session|withSession\()' \
    "${no_sql_paths[@]}"; then
    echo "${no_sql_paths[*]} must not hold SQL or use connections: move it into a core/storage/ object" >&2
    status=1
fi
if grep -rln '<libpq-fe.h>' core | grep -v '^core/storage/'; then
    echo "<libpq-fe.h> belongs to core/storage/ only" >&2
    status=1
fi
exit $status
