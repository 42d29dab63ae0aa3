#include "storage/TelemetryStore.h"

#include "storage/CopyEncoder.h"
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

const char* kStagingDdl =
    "SET TIME ZONE 'UTC';"
    "CREATE TEMP TABLE IF NOT EXISTS telemetry_staging (tenant_id uuid, device_id bigint, metric_id integer, "
    "ts timestamptz, value double precision) ON COMMIT DELETE ROWS";

// Rows are inserted and rollups upserted in key order, so that writer threads whose batches touch the
// same rollup rows (two batches of one device within an hour) take their row locks in the same order
// instead of deadlocking.
const char* kInsertFromStaging =
    "WITH ins AS ("
    "  INSERT INTO pulse.telemetry (tenant_id, device_id, metric_id, ts, value)"
    "  SELECT tenant_id, device_id, metric_id, ts, value FROM telemetry_staging ORDER BY device_id, "
    "metric_id, ts"
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
    std::map<std::pair<Uuid, std::string>, bool> missing;
    for (const auto& r : rows) {
        auto key = std::make_pair(r.tenant, r.metric);
        if (!metricIds_.count(key)) missing.emplace(key, r.isBool);
    }
    if (!missing.empty()) {
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
        for (const auto& row : result.rows) metricIds_[{parseUuid(*row[0]), *row[1]}] = std::stoi(*row[2]);
    }
    ids.clear();
    for (const auto& r : rows) ids.push_back(metricIds_.at({r.tenant, r.metric}));
}

size_t TelemetryStore::write(const std::vector<TelemetryRow>& rows) {
    if (rows.empty()) return 0;
    try {
        if (!conn_) {
            conn_ = std::make_unique<PgConnection>(conninfo_);
            conn_->exec(kStagingDdl);
        }
        // Row-level security: the transaction may write the tenants of this batch and no other.
        std::set<Uuid> tenants;
        for (const auto& r : rows) tenants.insert(r.tenant);
        std::vector<std::string> tenantIds;
        for (const auto& t : tenants) tenantIds.push_back(hex(t));
        conn_->exec(beginScopedTo(tenantIds));
        std::vector<int32_t> metricIds;
        resolveMetrics(rows, metricIds);

        BinaryCopyEncoder copy(rows.size() * 70);
        for (size_t i = 0; i < rows.size(); ++i) {
            const auto& r = rows[i];
            copy.row(5);
            copy.uuid(r.tenant);
            copy.int64(r.deviceId);
            copy.int32(metricIds[i]);
            copy.timestampUs(r.tsUs);
            copy.float64(r.value);
        }
        conn_->copyIn("COPY telemetry_staging FROM STDIN (FORMAT binary)", copy.finish());
        auto inserted = conn_->query(kInsertFromStaging);
        conn_->exec("COMMIT");
        return std::stoul(*inserted.rows.at(0).at(0));
    } catch (const DatabaseError& e) {
        if (transient(e)) {
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
