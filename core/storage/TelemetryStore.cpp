#include "storage/TelemetryStore.h"

#include "storage/BinaryEncoding.h"
#include "storage/ResultRow.h"
#include "storage/SqlText.h"
#include "storage/TelemetryBatch.h"
#include "storage/TenantScope.h"

#include <cstring>
#include <set>
#include <stdexcept>

namespace pulse::storage {

std::string uuidText(const Uuid& u) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < u.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
        out += digits[u[i] >> 4];
        out += digits[u[i] & 15];
    }
    return out;
}

namespace {

// Readings go to PostgreSQL as binary arrays, one per column, unnested in the statement: no staging table
// to fill and scan again.
const char* kReadings =
    "unnest($1::uuid[], $2::bigint[], $3::integer[], $4::timestamptz[], $5::float8[])"
    " AS r(tenant_id, device_id, metric_id, ts, value)";

// The common path: no reading of the batch is stored yet, so all are inserted (a unique violation sends
// the batch to kInsertNewOnly instead), and the rollups and last values come from the writer.
const std::string kInsertAllNew =
    std::string("INSERT INTO pulse.telemetry (tenant_id, device_id, metric_id, ts, value) SELECT * FROM ") +
    kReadings;

const char* kUpsertRollups =
    "INSERT INTO pulse.telemetry_hourly AS h (tenant_id, device_id, metric_id, hour, min, max, sum, count)"
    " SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::integer[], $4::timestamptz[], $5::float8[],"
    " $6::float8[], $7::float8[], $8::bigint[])"
    " ON CONFLICT (device_id, metric_id, hour) DO UPDATE SET min = least(h.min, EXCLUDED.min),"
    " max = greatest(h.max, EXCLUDED.max), sum = h.sum + EXCLUDED.sum, count = h.count + EXCLUDED.count";

// The catalog rows of the batch's metrics are locked in id order before their last values are set:
// UPDATE .. FROM would lock them in whatever order its join runs, and two writers could deadlock.
const char* kLockMetrics = "SELECT 1 FROM pulse.metrics WHERE id = ANY($1::integer[]) ORDER BY id FOR UPDATE";

// Also after a redelivery: a redelivered reading carries the value stored, so the newest reading of the
// whole batch is right either way. (A device that sends two values with one timestamp keeps the first in
// telemetry and may show the second as the last value until its next reading.)
const char* kUpdateLatest =
    "UPDATE pulse.metrics m SET last_value = l.value, last_ts = l.ts"
    " FROM unnest($1::integer[], $2::timestamptz[], $3::float8[]) AS l(id, ts, value)"
    " WHERE m.id = l.id AND (m.last_ts IS NULL OR m.last_ts <= l.ts)";

// When some readings are stored already (a redelivery): only the new ones are inserted, and the rollups
// follow exactly those. Rows are inserted and rollups upserted in key order, so that writer threads
// whose batches touch the same rollup rows (two batches of one device within an hour) take their row
// locks in the same order instead of deadlocking.
const std::string kInsertNewOnly =
    std::string(
        "WITH ins AS ("
        "  INSERT INTO pulse.telemetry (tenant_id, device_id, metric_id, ts, value)"
        "  SELECT * FROM ") +
    kReadings +
    " ORDER BY device_id, metric_id, ts"
    "  ON CONFLICT (device_id, metric_id, ts) DO NOTHING"
    "  RETURNING tenant_id, device_id, metric_id, ts, value),"
    " rollup AS ("
    "  INSERT INTO pulse.telemetry_hourly AS h (tenant_id, device_id, metric_id, hour, min, max, sum, count)"
    "  SELECT tenant_id, device_id, metric_id, date_trunc('hour', ts), min(value), max(value), sum(value), "
    "count(*)"
    "  FROM ins GROUP BY 1, 2, 3, 4 ORDER BY 2, 3, 4"
    "  ON CONFLICT (device_id, metric_id, hour) DO UPDATE SET min = least(h.min, EXCLUDED.min),"
    "    max = greatest(h.max, EXCLUDED.max), sum = h.sum + EXCLUDED.sum, count = h.count + EXCLUDED.count)"
    "SELECT count(*) FROM ins";

// One partition per UTC day, made before the readings that need it arrive.
const char* kEnsurePartitions = "SELECT pulse.ensure_telemetry_partitions($1, $2) AS created";

// Retention: raw readings go by whole partitions, hourly rollups by rows.
const char* kDropExpiredPartitions = "SELECT pulse.drop_expired_telemetry($1, $2) AS dropped";

// One binary array parameter of `count` values, each written by add(encoder, index).
template <class Add>
std::string binaryArray(uint32_t elementOid, size_t count, size_t bytesPerValue, Add add) {
    BinaryArrayEncoder array(elementOid, count, bytesPerValue);
    for (size_t i = 0; i < count; ++i) add(array, i);
    return array.finish();
}

}  // namespace

Uuid parseUuid(const std::string& text) {
    Uuid u{};
    size_t n = 0;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '-') continue;
        int hi = nibble(text[i]), lo = i + 1 < text.size() ? nibble(text[i + 1]) : -1;
        if (hi < 0 || lo < 0 || n >= 16) throw std::invalid_argument("not a UUID: " + text);
        u[n++] = static_cast<uint8_t>(hi << 4 | lo);
        ++i;
    }
    if (n != 16) throw std::invalid_argument("not a UUID: " + text);
    return u;
}

TelemetryStore::TelemetryStore(PgPool& pool) : pool_(pool) {}

TelemetryPartitionChanges TelemetryStore::maintainPartitions(int rawRetentionDays, int rollupRetentionDays,
                                                             int daysAhead) {
    PgRows created, dropped;
    pool_.with([&](PgConnection& conn) {
        created =
            conn.query(kEnsurePartitions, {std::to_string(rawRetentionDays), std::to_string(daysAhead)});
        dropped = conn.query(kDropExpiredPartitions,
                             {std::to_string(rawRetentionDays), std::to_string(rollupRetentionDays)});
    });
    return {ResultRow(created, 0).integer("created"), ResultRow(dropped, 0).integer("dropped")};
}

void TelemetryStore::resolveMetrics(const std::vector<TelemetryRow>& rows,
                                    const std::vector<std::string>& tenantIds, std::vector<int32_t>& ids) {
    ids.assign(rows.size(), -1);
    std::map<std::pair<Uuid, std::string>, bool> missing;
    for (size_t i = 0; i < rows.size(); ++i) {
        const auto& names = metricIds_[rows[i].tenant];
        auto known = names.find(rows[i].metric);
        if (known != names.end())
            ids[i] = known->second;
        else
            missing.emplace(std::make_pair(rows[i].tenant, rows[i].metric), rows[i].isBool);
    }
    if (missing.empty()) return;
    std::vector<std::string> tenants, names, bools;
    for (const auto& [key, isBool] : missing) {
        tenants.push_back(uuidText(key.first));
        names.push_back(key.second);
        bools.push_back(isBool ? "t" : "f");
    }
    // New names join the catalog in a transaction of their own (committed even if the batch is not, and
    // holding no other lock). DO NOTHING locks no existing row (DO UPDATE would, against writers holding
    // them for last values); a name another writer is adding waits for its commit. The ids are read by
    // a second statement, whose snapshot sees what the first one waited for.
    conn_->exec(beginScopedTo(tenantIds));
    conn_->query(
        "INSERT INTO pulse.metrics (tenant_id, name, is_boolean) "
        "SELECT * FROM unnest($1::uuid[], $2::text[], $3::boolean[]) ON CONFLICT (tenant_id, name) DO "
        "NOTHING",
        {arrayLiteral(tenants), arrayLiteral(names), arrayLiteral(bools)});
    auto result = conn_->query(
        "SELECT m.tenant_id, m.name, m.id FROM pulse.metrics m "
        "JOIN unnest($1::uuid[], $2::text[]) AS n(tenant_id, name) USING (tenant_id, name)",
        {arrayLiteral(tenants), arrayLiteral(names)});
    conn_->exec("COMMIT");
    for (const auto& row : result.rows) metricIds_[parseUuid(*row[0])][*row[1]] = std::stoi(*row[2]);
    for (size_t i = 0; i < rows.size(); ++i) {
        if (ids[i] >= 0) continue;
        const auto& names = metricIds_[rows[i].tenant];
        auto known = names.find(rows[i].metric);
        if (known == names.end())  // not expected; retried like a lost connection
            throw DatabaseError("metric '" + rows[i].metric + "' is not in the catalog after adding it");
        ids[i] = known->second;
    }
}

namespace {

// The statements' parameters: binary arrays, one per column.
std::vector<std::string> readingArrays(const std::vector<TelemetryRow>& rows,
                                       const std::vector<int32_t>& metricIds, const KeyedBatch& batch) {
    using A = BinaryArrayEncoder;
    const auto& o = batch.order;
    return {
        binaryArray(A::kUuid, o.size(), 16, [&](A& a, size_t i) { a.uuid(rows[o[i]].tenant); }),
        binaryArray(A::kInt8, o.size(), 8, [&](A& a, size_t i) { a.int64(rows[o[i]].deviceId); }),
        binaryArray(A::kInt4, o.size(), 4, [&](A& a, size_t i) { a.int32(metricIds[o[i]]); }),
        binaryArray(A::kTimestamptz, o.size(), 8, [&](A& a, size_t i) { a.timestampUs(rows[o[i]].tsUs); }),
        binaryArray(A::kFloat8, o.size(), 8, [&](A& a, size_t i) { a.float64(rows[o[i]].value); })};
}

std::vector<std::string> rollupArrays(const KeyedBatch& batch) {
    using A = BinaryArrayEncoder;
    const auto& h = batch.rollups;
    return {binaryArray(A::kUuid, h.size(), 16, [&](A& a, size_t i) { a.uuid(h[i].tenant); }),
            binaryArray(A::kInt8, h.size(), 8, [&](A& a, size_t i) { a.int64(h[i].deviceId); }),
            binaryArray(A::kInt4, h.size(), 4, [&](A& a, size_t i) { a.int32(h[i].metricId); }),
            binaryArray(A::kTimestamptz, h.size(), 8, [&](A& a, size_t i) { a.timestampUs(h[i].hourUs); }),
            binaryArray(A::kFloat8, h.size(), 8, [&](A& a, size_t i) { a.float64(h[i].min); }),
            binaryArray(A::kFloat8, h.size(), 8, [&](A& a, size_t i) { a.float64(h[i].max); }),
            binaryArray(A::kFloat8, h.size(), 8, [&](A& a, size_t i) { a.float64(h[i].sum); }),
            binaryArray(A::kInt8, h.size(), 8, [&](A& a, size_t i) { a.int64(h[i].count); })};
}

std::vector<std::string> latestArrays(const KeyedBatch& batch) {
    using A = BinaryArrayEncoder;
    const auto& l = batch.latest;
    return {binaryArray(A::kInt4, l.size(), 4, [&](A& a, size_t i) { a.int32(l[i].metricId); }),
            binaryArray(A::kTimestamptz, l.size(), 8, [&](A& a, size_t i) { a.timestampUs(l[i].tsUs); }),
            binaryArray(A::kFloat8, l.size(), 8, [&](A& a, size_t i) { a.float64(l[i].value); })};
}

// The first statement of a pipeline that failed, as the error it raised; nullptr when all were done.
const PgConnection::Outcome* firstFailure(const std::vector<PgConnection::Outcome>& outcomes) {
    for (const auto& o : outcomes)
        if (o.state == PgConnection::Outcome::State::Failed) return &o;
    return nullptr;
}

}  // namespace

size_t TelemetryStore::write(const std::vector<TelemetryRow>& rows) {
    if (rows.empty()) return 0;
    try {
        if (!conn_) {
            // The pool's connections are in UTC (date_trunc('hour', ..) of the rollups). The statements of
            // every batch are planned once: their plans do not depend on the arrays' contents, and a small
            // batch would otherwise spend about a quarter of its database time parsing and planning
            // (tests/bench, perf). force_generic_plan is set per transaction (below), not for the session,
            // so it never reaches the pool's other users.
            PgPool::Lease conn = pool_.acquire();
            conn->prepare("insert_all_new", kInsertAllNew);
            conn->prepare("insert_new_only", kInsertNewOnly);
            conn->prepare("upsert_rollups", kUpsertRollups);
            conn->prepare("lock_metrics", kLockMetrics);
            conn->prepare("update_latest", kUpdateLatest);
            conn_ = std::move(conn);  // only a connection with its statements prepared is kept
        }
        // Row-level security: the transaction may write the tenants of this batch and no other.
        std::set<Uuid> tenants;
        for (const auto& r : rows) tenants.insert(r.tenant);
        std::vector<std::string> tenantIds;
        for (const auto& t : tenants) tenantIds.push_back(uuidText(t));
        std::vector<int32_t> metricIds;
        resolveMetrics(rows, tenantIds, metricIds);
        KeyedBatch batch = keyBatch(rows, metricIds);
        auto readings = readingArrays(rows, metricIds, batch);

        // The common case in one round trip: no reading of the batch is stored yet, so all are inserted
        // (under a savepoint) and the rollups and last values computed here are upserted.
        using Statement = PgConnection::Statement;
        auto latest = latestArrays(batch);  // metric ids first
        Statement lockMetrics{"lock_metrics", {latest.front()}, true};
        Statement updateLatest{"update_latest", latest, true};
        auto outcomes = conn_->pipeline(
            {Statement{"BEGIN", {}, false},
             Statement{"SELECT set_config('pulse.tenants', $1, true), "
                       "set_config('plan_cache_mode', 'force_generic_plan', true)",
                       {tenantSetting(tenantIds)},
                       false},
             Statement{"SAVEPOINT all_new", {}, false}, Statement{"insert_all_new", readings, true},
             Statement{"upsert_rollups", rollupArrays(batch), true}, lockMetrics, updateLatest,
             Statement{"COMMIT", {}, false}});
        const auto* failed = firstFailure(outcomes);
        if (!failed) return batch.order.size();
        if (failed != &outcomes[3] || failed->sqlState != "23505")
            throw DatabaseError(failed->message, failed->sqlState);
        // Unique violation: a reading was stored before (a redelivery). Back to the savepoint, and only the
        // new readings are inserted, with rollups from exactly those.
        outcomes = conn_->pipeline({Statement{"ROLLBACK TO SAVEPOINT all_new", {}, false},
                                    Statement{"insert_new_only", readings, true}, lockMetrics, updateLatest,
                                    Statement{"COMMIT", {}, false}});
        if ((failed = firstFailure(outcomes))) throw DatabaseError(failed->message, failed->sqlState);
        return std::stoul(*outcomes[1].rows.rows.at(0).at(0));
    } catch (const DatabaseError&) {
        conn_.release();  // the pool rolls it back or drops it; the next batch leases one again
        throw;
    }
}

}  // namespace pulse::storage
