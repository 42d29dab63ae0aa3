#include "storage/TelemetryStore.h"

#include "storage/BinaryEncoding.h"
#include "storage/TelemetryBatch.h"
#include "storage/TenantScope.h"

#include <cstring>
#include <set>
#include <stdexcept>

namespace pulse::storage {
namespace {

std::string hex(const Uuid& u) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < u.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
        out += digits[u[i] >> 4];
        out += digits[u[i] & 15];
    }
    return out;
}

std::string pgArray(const std::vector<std::string>& items) {
    std::string out = "{";
    for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += ',';
        out += '"';
        for (char c : items[i]) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

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

const char* kUpdateLatest =
    "UPDATE pulse.metrics m SET last_value = l.value, last_ts = l.ts"
    " FROM unnest($1::integer[], $2::timestamptz[], $3::float8[]) AS l(id, ts, value)"
    " WHERE m.id = l.id AND (m.last_ts IS NULL OR m.last_ts <= l.ts)";

// When some readings are stored already (a redelivery): only the new ones are inserted, and rollups and
// last values follow exactly those. Rows are inserted and rollups upserted in key order, so that writer
// threads whose batches touch the same rollup rows (two batches of one device within an hour) take their
// row locks in the same order instead of deadlocking.
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
    "    max = greatest(h.max, EXCLUDED.max), sum = h.sum + EXCLUDED.sum, count = h.count + EXCLUDED.count),"
    " latest AS ("
    "  UPDATE pulse.metrics m SET last_value = l.value, last_ts = l.ts"
    "  FROM (SELECT DISTINCT ON (metric_id) metric_id, ts, value FROM ins ORDER BY metric_id, ts DESC) l"
    "  WHERE m.id = l.metric_id AND (m.last_ts IS NULL OR m.last_ts <= l.ts))"
    "SELECT count(*) FROM ins";

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

TelemetryStore::TelemetryStore(const std::string& conninfo) : conninfo_(conninfo) {}

bool TelemetryStore::transient(const DatabaseError& e) {
    const std::string& s = e.sqlState();
    // No SQLSTATE: libpq lost the connection. 08: connection exceptions; 57P0x: shutdown or crash
    // recovery; 53: out of resources (disk full); 40001/40P01: serialization failure, deadlock.
    return s.empty() || s.rfind("08", 0) == 0 || s.rfind("57P0", 0) == 0 || s.rfind("53", 0) == 0 ||
           s == "40001" || s == "40P01";
}

void TelemetryStore::resolveMetrics(const std::vector<TelemetryRow>& rows, std::vector<int32_t>& ids) {
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
        tenants.push_back(hex(key.first));
        names.push_back(key.second);
        bools.push_back(isBool ? "t" : "f");
    }
    // New names join the catalog; concurrent writers agree through the unique constraint.
    auto result = conn_->query(
        "INSERT INTO pulse.metrics AS m (tenant_id, name, is_boolean) "
        "SELECT * FROM unnest($1::uuid[], $2::text[], $3::boolean[]) "
        "ON CONFLICT (tenant_id, name) DO UPDATE SET is_boolean = m.is_boolean "
        "RETURNING tenant_id, name, id",
        {pgArray(tenants), pgArray(names), pgArray(bools)});
    for (const auto& row : result.rows) metricIds_[parseUuid(*row[0])][*row[1]] = std::stoi(*row[2]);
    for (size_t i = 0; i < rows.size(); ++i)
        if (ids[i] < 0) ids[i] = metricIds_.at(rows[i].tenant).at(rows[i].metric);
}

bool TelemetryStore::insertAllNew(const std::vector<std::string>& readings) {
    conn_->exec("SAVEPOINT all_new");
    try {
        conn_->queryPrepared("insert_all_new", readings);
        return true;
    } catch (const DatabaseError& e) {
        if (e.sqlState() != "23505") throw;  // unique_violation: a reading is stored already
        conn_->exec("ROLLBACK TO SAVEPOINT all_new");
        return false;
    }
}

void TelemetryStore::upsertRollupsAndLatest(const KeyedBatch& batch) {
    using A = BinaryArrayEncoder;
    const auto& h = batch.rollups;
    conn_->queryPrepared(
        "upsert_rollups",
        {binaryArray(A::kUuid, h.size(), 16, [&](A& a, size_t i) { a.uuid(h[i].tenant); }),
         binaryArray(A::kInt8, h.size(), 8, [&](A& a, size_t i) { a.int64(h[i].deviceId); }),
         binaryArray(A::kInt4, h.size(), 4, [&](A& a, size_t i) { a.int32(h[i].metricId); }),
         binaryArray(A::kTimestamptz, h.size(), 8, [&](A& a, size_t i) { a.timestampUs(h[i].hourUs); }),
         binaryArray(A::kFloat8, h.size(), 8, [&](A& a, size_t i) { a.float64(h[i].min); }),
         binaryArray(A::kFloat8, h.size(), 8, [&](A& a, size_t i) { a.float64(h[i].max); }),
         binaryArray(A::kFloat8, h.size(), 8, [&](A& a, size_t i) { a.float64(h[i].sum); }),
         binaryArray(A::kInt8, h.size(), 8, [&](A& a, size_t i) { a.int64(h[i].count); })});
    const auto& l = batch.latest;
    conn_->queryPrepared(
        "update_latest",
        {binaryArray(A::kInt4, l.size(), 4, [&](A& a, size_t i) { a.int32(l[i].metricId); }),
         binaryArray(A::kTimestamptz, l.size(), 8, [&](A& a, size_t i) { a.timestampUs(l[i].tsUs); }),
         binaryArray(A::kFloat8, l.size(), 8, [&](A& a, size_t i) { a.float64(l[i].value); })});
}

size_t TelemetryStore::write(const std::vector<TelemetryRow>& rows) {
    if (rows.empty()) return 0;
    try {
        if (!conn_) {
            auto conn = std::make_unique<PgConnection>(conninfo_);
            // date_trunc('hour', ..) of the rollups in UTC. The statements of every batch are planned once:
            // their plans do not depend on the arrays' contents, and a small batch would otherwise spend
            // about a quarter of its database time parsing and planning (tests/bench, perf).
            conn->exec("SET TIME ZONE 'UTC'; SET plan_cache_mode = force_generic_plan");
            conn->prepare("insert_all_new", kInsertAllNew);
            conn->prepare("insert_new_only", kInsertNewOnly);
            conn->prepare("upsert_rollups", kUpsertRollups);
            conn->prepare("update_latest", kUpdateLatest);
            conn_ = std::move(conn);  // only a connection with its statements prepared is kept
        }
        // Row-level security: the transaction may write the tenants of this batch and no other.
        std::set<Uuid> tenants;
        for (const auto& r : rows) tenants.insert(r.tenant);
        std::vector<std::string> tenantIds;
        for (const auto& t : tenants) tenantIds.push_back(hex(t));
        conn_->exec(beginScopedTo(tenantIds));
        std::vector<int32_t> metricIds;
        resolveMetrics(rows, metricIds);

        KeyedBatch batch = keyBatch(rows, metricIds);

        const auto& o = batch.order;
        using A = BinaryArrayEncoder;
        std::vector<std::string> readings{
            binaryArray(A::kUuid, o.size(), 16, [&](A& a, size_t i) { a.uuid(rows[o[i]].tenant); }),
            binaryArray(A::kInt8, o.size(), 8, [&](A& a, size_t i) { a.int64(rows[o[i]].deviceId); }),
            binaryArray(A::kInt4, o.size(), 4, [&](A& a, size_t i) { a.int32(metricIds[o[i]]); }),
            binaryArray(A::kTimestamptz, o.size(), 8,
                        [&](A& a, size_t i) { a.timestampUs(rows[o[i]].tsUs); }),
            binaryArray(A::kFloat8, o.size(), 8, [&](A& a, size_t i) { a.float64(rows[o[i]].value); })};
        size_t inserted = o.size();
        if (insertAllNew(readings)) {
            upsertRollupsAndLatest(batch);
        } else {
            inserted = std::stoul(*conn_->queryPrepared("insert_new_only", readings).rows.at(0).at(0));
        }
        conn_->exec("COMMIT");
        return inserted;
    } catch (const DatabaseError& e) {
        if (transient(e) || !conn_) {
            conn_.reset();  // a broken connection is replaced on the next write
        } else {
            try {
                conn_->exec("ROLLBACK");
            } catch (const DatabaseError&) {
                conn_.reset();
            }
        }
        metricIds_.clear();  // ids learnt in a rolled-back transaction may not exist
        throw;
    }
}

}  // namespace pulse::storage
