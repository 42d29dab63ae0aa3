// /api/v1/fleet/summary: the tenant's fleet at a glance (the console's KPI strip): devices by status, open
// alerts by severity, readings in the last minute. Every status and severity is present, zero or not.
#include "http/api/Api.h"
#include "services/Severities.h"
#include "storage/FleetSummaryStore.h"

namespace pulse::http {
namespace {

// Each key's count (0 when the store found none) and their total.
template <class Keys>
Poco::JSON::Object::Ptr countsOf(const Keys& keys, const std::map<std::string, long long>& counts) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    long long total = 0;
    for (auto key : keys) {
        auto it = counts.find(std::string(key));
        long long n = it == counts.end() ? 0 : it->second;
        o->set(std::string(key), n);
        total += n;
    }
    o->set("total", total);
    return o;
}

constexpr std::array<std::string_view, 3> kDeviceStatuses = {"ONLINE", "STALE", "OFFLINE"};

}  // namespace

void addFleetRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/fleet/summary", "api.fleet.summary", Access::Reader, [](Call& call) {
        auto s = storage::FleetSummaryStore(*call.api.services().pool).read(call.tenant());
        Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
        o->set("devices", countsOf(kDeviceStatuses, s.devicesByStatus));
        o->set("open_alerts", countsOf(services::kSeverities, s.openAlertsBySeverity));
        o->set("readings_last_minute", s.readingsLastMinute);
        o->set("at", s.at);
        sendObject(call.ex, 200, o);
    });
}

}  // namespace pulse::http
