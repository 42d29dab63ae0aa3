// /api/v1/devices/export and /api/v1/alerts/export: the tenant's devices, or its alerts in a time range,
// as one CSV (RFC 4180, spreadsheet-safe fields) or JSON download, at most 100,000 rows. Exports are
// audited: they are how data leaves in bulk.
#include "formats/Csv.h"
#include "http/api/Api.h"
#include "storage/PgPool.h"

#include <Poco/JSON/Array.h>

#include <chrono>
#include <sstream>

namespace pulse::http {
namespace {

constexpr int kMaxRows = 100000;

struct Column {
    const char* name;
    enum Kind { Text, Number } kind;
};

// Sends rows (one text value per column, NULL as empty / null) in the format the caller asked for.
void sendExport(Call& call, const std::string& what, const std::vector<Column>& columns,
                const storage::PgRows& rows) {
    std::string format = call.query("format");
    if (format.empty()) format = "csv";
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
                    o->set(columns[c].name, sqlNumber(*r[c]));
                else
                    o->set(columns[c].name, *r[c]);
            }
            items->add(o);
        }
        items->stringify(out);
        call.ex.response.setContentType("application/json");
    }
    call.ex.response.set("Content-Disposition", "attachment; filename=\"" + what + "." + format + "\"");
    call.audit(what.substr(0, what.size() - 1) + ".export", "", "ok",
               "{\"rows\":" + std::to_string(rows.rows.size()) + ",\"format\":\"" + format + "\"}");
    std::string body = out.str();
    call.ex.response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
    call.ex.response.setContentLength(static_cast<std::streamsize>(body.size()));
    call.ex.response.send() << body;
}

void checkFormat(const Call& call) {
    std::string format = call.query("format");
    if (!format.empty() && format != "csv" && format != "json")
        throw ApiError(422, "Unprocessable Content", "format must be csv or json", "format");
}

}  // namespace

void addExportRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/devices/export", "api.devices.export", Access::Reader, [](Call& call) {
        checkFormat(call);
        storage::PgRows rows;
        call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
            rows = conn.query(
                "SELECT d.id::text, d.name, d.status, s.name, array_to_string(d.tags, ';'), " +
                    isoTime("d.last_seen_at") + ", " + isoTime("d.created_at") + ", " +
                    isoTime("d.decommissioned_at") +
                    " FROM pulse.devices d LEFT JOIN pulse.sites s ON s.id = d.site_id ORDER BY d.id "
                    "LIMIT $1::int",
                {std::to_string(kMaxRows)});
        });
        sendExport(call, "devices",
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
        checkFormat(call);
        long long now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
        long long to = call.timeQuery("to").value_or(now);
        long long from = call.timeQuery("from").value_or(to - 30LL * 24 * 3600 * 1000);
        if (from >= to) throw ApiError(422, "Unprocessable Content", "from must be before to", "from");
        std::string status = call.query("status");
        if (status.empty()) status = "ALL";
        if (status != "OPEN" && status != "ACKNOWLEDGED" && status != "CLOSED" && status != "ALL")
            throw ApiError(422, "Unprocessable Content", "status must be OPEN, ACKNOWLEDGED, CLOSED or ALL",
                           "status");
        storage::PgRows rows;
        call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
            rows = conn.query(
                "SELECT a.id::text, a.status, a.severity, a.condition, d.name, r.name, a.summary, "
                "a.last_value::text, " +
                    isoTime("a.opened_at") + ", " + isoTime("a.acknowledged_at") + ", a.acknowledged_by, " +
                    isoTime("a.closed_at") + ", a.closed_by, a.close_reason" +
                    " FROM pulse.alerts a JOIN pulse.devices d ON d.id = a.device_id JOIN pulse.rules r ON "
                    "r.id = "
                    "a.rule_id WHERE ($1 = 'ALL' OR a.status = $1) AND a.opened_at >= " +
                    timeFromMs("$2") + " AND a.opened_at < " + timeFromMs("$3") +
                    " ORDER BY a.id LIMIT $4::int",
                {status, std::to_string(from), std::to_string(to), std::to_string(kMaxRows)});
        });
        sendExport(call, "alerts",
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
