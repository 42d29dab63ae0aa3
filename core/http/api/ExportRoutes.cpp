// /api/v1/devices/export and /api/v1/alerts/export: the tenant's devices, or its alerts in a time range,
// as one CSV (RFC 4180, spreadsheet-safe fields) or JSON download, at most 100,000 rows. Exports are
// audited: they are how data leaves in bulk.
#include "formats/Csv.h"
#include "http/api/Api.h"
#include "storage/PgPool.h"

#include <Poco/JSON/Array.h>

#include <sstream>

namespace pulse::http {
namespace {

constexpr int kMaxRows = 100000;

struct Column {
    const char* name;
    enum Kind { Text, Number } kind;
};

// Sends rows (one text value per column, NULL as empty / null) in the format the caller asked for.
void sendExport(Call& call, const std::string& format, const std::string& what,
                const std::string& auditAction, const std::vector<Column>& columns,
                const storage::PgRows& rows) {
    std::ostringstream out;
    if (format == "csv") {
        for (size_t c = 0; c < columns.size(); ++c) out << (c ? "," : "") << columns[c].name;
        out << "\r\n";
        for (const auto& r : rows.rows) {
            for (size_t c = 0; c < columns.size(); ++c) {
                if (c) out << ',';
                if (!r[c]) continue;
                // Numbers as they are (a minus sign is not a formula); text through the injection guard.
                out << (columns[c].kind == Column::Number ? *r[c] : formats::csvField(*r[c]));
            }
            out << "\r\n";
        }
        call.ex.response.setContentType("text/csv; charset=utf-8");
    } else {
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        for (const auto& r : rows.rows) {
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            for (size_t c = 0; c < columns.size(); ++c) {
                if (!r[c]) {
                    o->set(columns[c].name, Poco::Dynamic::Var());
                    continue;
                }
                if (columns[c].kind == Column::Number)
                    o->set(columns[c].name, storage::sqlNumber(*r[c]));
                else
                    o->set(columns[c].name, *r[c]);
            }
            items->add(o);
        }
        items->stringify(out);
        call.ex.response.setContentType("application/json");
    }
    call.ex.response.set("Content-Disposition", "attachment; filename=\"" + what + "." + format + "\"");
    call.audit(auditAction, "", "ok",
               "{\"rows\":" + std::to_string(rows.rows.size()) + ",\"format\":\"" + format + "\"}");
    std::string body = out.str();
    call.ex.response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
    call.ex.response.setContentLength(static_cast<std::streamsize>(body.size()));
    call.ex.response.send() << body;
}

std::string format(const Call& call) {
    return call.oneOf("format", {"csv", "json"}, "csv");
}

}  // namespace

void addExportRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/devices/export", "api.devices.export", Access::Reader, [](Call& call) {
        std::string as = format(call);
        storage::PgRows rows;
        call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
            rows = conn.query(
                "SELECT d.id::text, d.name, d.status, s.name, array_to_string(d.tags, ';'), " +
                    storage::isoTime("d.last_seen_at") + ", " + storage::isoTime("d.created_at") + ", " +
                    storage::isoTime("d.decommissioned_at") +
                    " FROM pulse.devices d LEFT JOIN pulse.sites s ON s.id = d.site_id ORDER BY d.id "
                    "LIMIT $1::int",
                {std::to_string(kMaxRows)});
        });
        sendExport(call, as, "devices", "device.export",
                   {{"id", Column::Number},
                    {"name", Column::Text},
                    {"status", Column::Text},
                    {"site", Column::Text},
                    {"tags", Column::Text},
                    {"last_seen_at", Column::Text},
                    {"created_at", Column::Text},
                    {"decommissioned_at", Column::Text}},
                   rows);
    });

    api.route(router, "GET", "/api/v1/alerts/export", "api.alerts.export", Access::Reader, [](Call& call) {
        std::string as = format(call);
        auto [from, to] = call.timeRange(30LL * 24 * 3600 * 1000);
        std::string status = call.oneOf("status", kAlertStatusFilters, "ALL");
        storage::PgRows rows;
        call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
            rows = conn.query(
                "SELECT a.id::text, a.status, a.severity, a.condition, d.name, r.name, a.summary, "
                "a.last_value::text, " +
                    storage::isoTime("a.opened_at") + ", " + storage::isoTime("a.acknowledged_at") +
                    ", a.acknowledged_by, " + storage::isoTime("a.closed_at") +
                    ", a.closed_by, a.close_reason" +
                    " FROM pulse.alerts a JOIN pulse.devices d ON d.id = a.device_id JOIN pulse.rules r ON "
                    "r.id = "
                    "a.rule_id WHERE ($1 = 'ALL' OR a.status = $1) AND a.opened_at >= " +
                    storage::timeFromMs("$2") + " AND a.opened_at < " + storage::timeFromMs("$3") +
                    " ORDER BY a.id LIMIT $4::int",
                {status, std::to_string(from), std::to_string(to), std::to_string(kMaxRows)});
        });
        sendExport(call, as, "alerts", "alert.export",
                   {{"id", Column::Number},
                    {"status", Column::Text},
                    {"severity", Column::Text},
                    {"condition", Column::Text},
                    {"device", Column::Text},
                    {"rule", Column::Text},
                    {"summary", Column::Text},
                    {"last_value", Column::Number},
                    {"opened_at", Column::Text},
                    {"acknowledged_at", Column::Text},
                    {"acknowledged_by", Column::Text},
                    {"closed_at", Column::Text},
                    {"closed_by", Column::Text},
                    {"close_reason", Column::Text}},
                   rows);
    });
}

}  // namespace pulse::http
