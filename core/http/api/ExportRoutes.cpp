// /api/v1/devices/export and /api/v1/alerts/export: the tenant's devices, or its alerts in a time range,
// as one CSV (RFC 4180, spreadsheet-safe fields) or JSON download, at most 100,000 rows. Exports are
// audited: they are how data leaves in bulk.
#include "formats/Csv.h"
#include "http/api/Api.h"
#include "json/JsonText.h"
#include "storage/AlertStore.h"
#include "storage/DeviceExportStore.h"

#include <Poco/JSON/Array.h>
#include <pulse/json.hpp>

#include <sstream>

namespace pulse::http {
namespace {

constexpr int kMaxRows = 100000;

// A column value that is never NULL.
std::optional<std::string> text(const std::string& value) {
    return value;
}

// One column of an export: its name, whether it is a number, and its value in a row (nullopt: NULL).
template <typename Row>
struct Column {
    const char* name;
    enum Kind { Text, Number } kind;
    std::optional<std::string> (*value)(const Row&);
};

// Sends the rows in the format the caller asked for: NULL as an empty CSV field or a JSON null.
template <typename Row>
void sendExport(Call& call, const std::string& format, const std::string& what,
                const std::string& auditAction, const std::vector<Column<Row>>& columns,
                const std::vector<Row>& rows) {
    std::ostringstream out;
    if (format == "csv") {
        for (size_t c = 0; c < columns.size(); ++c) out << (c ? "," : "") << columns[c].name;
        out << "\r\n";
        for (const auto& r : rows) {
            for (size_t c = 0; c < columns.size(); ++c) {
                if (c) out << ',';
                auto value = columns[c].value(r);
                if (!value) continue;
                // Numbers as they are (a minus sign is not a formula); text through the injection guard.
                out << (columns[c].kind == Column<Row>::Number ? *value : formats::csvField(*value));
            }
            out << "\r\n";
        }
        call.ex.response.setContentType("text/csv; charset=utf-8");
    } else {
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        for (const auto& r : rows) {
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            for (const auto& column : columns) {
                auto value = column.value(r);
                if (!value)
                    o->set(column.name, Poco::Dynamic::Var());
                else if (column.kind == Column<Row>::Number)
                    o->set(column.name, storage::sqlNumber(*value));
                else
                    o->set(column.name, *value);
            }
            items->add(o);
        }
        out << json::toJsonText(items);
        call.ex.response.setContentType("application/json");
    }
    call.ex.response.set("Content-Disposition", "attachment; filename=\"" + what + "." + format + "\"");
    json::Writer detail;
    detail.beginObject().member("rows", rows.size()).member("format", format).endObject();
    call.audit(auditAction, "", "ok", detail.str());
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
        auto rows = storage::DeviceExportStore(*call.api.services().pool).rows(call.tenant(), kMaxRows);
        using D = storage::DeviceExportRow;
        sendExport<D>(call, as, "devices", "device.export",
                      {{"id", Column<D>::Number, [](const D& d) { return text(std::to_string(d.id)); }},
                       {"name", Column<D>::Text, [](const D& d) { return text(d.name); }},
                       {"status", Column<D>::Text, [](const D& d) { return text(d.status); }},
                       {"site", Column<D>::Text, [](const D& d) { return d.siteName; }},
                       {"tags", Column<D>::Text, [](const D& d) { return text(d.tags); }},
                       {"last_seen_at", Column<D>::Text, [](const D& d) { return d.lastSeenAt; }},
                       {"created_at", Column<D>::Text, [](const D& d) { return text(d.createdAt); }},
                       {"decommissioned_at", Column<D>::Text, [](const D& d) { return d.decommissionedAt; }}},
                      rows);
    });

    api.route(router, "GET", "/api/v1/alerts/export", "api.alerts.export", Access::Reader, [](Call& call) {
        std::string as = format(call);
        auto [from, to] = call.timeRange(30LL * 24 * 3600 * 1000);
        std::string status = call.oneOf("status", kAlertStatusFilters, "ALL");
        auto rows = storage::AlertStore(*call.api.services().pool)
                        .exportRows(call.tenant(), status, from, to, kMaxRows);
        using A = storage::AlertExportRow;
        sendExport<A>(call, as, "alerts", "alert.export",
                      {{"id", Column<A>::Number, [](const A& a) { return text(std::to_string(a.id)); }},
                       {"status", Column<A>::Text, [](const A& a) { return text(a.status); }},
                       {"severity", Column<A>::Text, [](const A& a) { return text(a.severity); }},
                       {"condition", Column<A>::Text, [](const A& a) { return text(a.condition); }},
                       {"device", Column<A>::Text, [](const A& a) { return text(a.deviceName); }},
                       {"rule", Column<A>::Text, [](const A& a) { return text(a.ruleName); }},
                       {"summary", Column<A>::Text, [](const A& a) { return text(a.summary); }},
                       {"last_value", Column<A>::Number, [](const A& a) { return a.lastValue; }},
                       {"opened_at", Column<A>::Text, [](const A& a) { return text(a.openedAt); }},
                       {"acknowledged_at", Column<A>::Text, [](const A& a) { return a.acknowledgedAt; }},
                       {"acknowledged_by", Column<A>::Text, [](const A& a) { return a.acknowledgedBy; }},
                       {"closed_at", Column<A>::Text, [](const A& a) { return a.closedAt; }},
                       {"closed_by", Column<A>::Text, [](const A& a) { return a.closedBy; }},
                       {"close_reason", Column<A>::Text, [](const A& a) { return a.closeReason; }}},
                      rows);
    });
}

}  // namespace pulse::http
