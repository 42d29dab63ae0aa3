// libFuzzer target: every REST request body parser (http/api/RequestBodies.cpp) on arbitrary bytes. Each
// must return a request or throw ApiError with a 4xx status; anything else (another exception, a crash, a
// sanitizer report) is a finding.
#include "http/api/RequestBodies.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

template <typename F>
void expectParsedOrRefused(F&& parse) {
    try {
        parse();
    } catch (const pulse::http::ApiError& e) {
        if (e.status < 400 || e.status > 499) __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    expectParsedOrRefused([&] { pulse::http::parseJsonObject(text); });
    expectParsedOrRefused([&] {
        auto c = pulse::http::parseCredentials(text);
        (void)c;
    });
    expectParsedOrRefused([&] {
        auto k = pulse::http::parseNewApiKey(text);
        if (k.name.empty() || k.name.size() > 200 || (k.role != "customer" && k.role != "tenant-admin"))
            __builtin_trap();
        if (k.ttlDays && (*k.ttlDays < 1 || *k.ttlDays > 3650)) __builtin_trap();
    });
    expectParsedOrRefused([&] {
        auto d = pulse::http::parseNewDevice(text);
        if (d.name.empty() || d.tags.size() > 64) __builtin_trap();
    });
    expectParsedOrRefused([&] {
        int m = pulse::http::parseSilenceMinutes(text);
        if (m < 1 || m > 43200) __builtin_trap();
    });
    expectParsedOrRefused([&] {
        auto r = pulse::http::parseCloseReason(text);
        if (r.empty() && !text.empty()) __builtin_trap();
    });
    expectParsedOrRefused([&] {
        auto c = pulse::http::parseDeviceChange(text);
        if (!c.tags && !c.siteId && !c.staleAfterS && !c.offlineAfterS && !c.parentId) __builtin_trap();
        if (c.staleAfterS && *c.staleAfterS && **c.staleAfterS < 1) __builtin_trap();
        if (c.parentId && *c.parentId && **c.parentId < 1) __builtin_trap();
    });
    expectParsedOrRefused([&] {
        auto s = pulse::http::parseSite(text, true);
        if (!s.name || s.name->empty()) __builtin_trap();
    });
    expectParsedOrRefused([&] {
        auto u = pulse::http::parseNewUser(text);
        if (u.password.size() < 12 || (u.role != "customer" && u.role != "tenant-admin") ||
            u.email.find('@') == std::string::npos)
            __builtin_trap();
    });
    expectParsedOrRefused([&] {
        auto u = pulse::http::parseUserChange(text);
        if (u.role && *u.role != "customer" && *u.role != "tenant-admin") __builtin_trap();
    });
    expectParsedOrRefused([&] {
        auto t = pulse::http::parseNewTenant(text);
        if (t.slug.empty() || t.slug.size() > 63 || t.name.empty()) __builtin_trap();
    });
    expectParsedOrRefused([&] {
        auto t = pulse::http::parseTenantChange(text);
        if (t.deviceLimit && *t.deviceLimit && **t.deviceLimit < 0) __builtin_trap();
    });
    expectParsedOrRefused([&] { pulse::http::parseMetricChange(text); });
    expectParsedOrRefused([&] {
        auto c = pulse::http::parseSettingsChange(text);
        if (!c.defaultStaleAfterS && !c.defaultOfflineAfterS) __builtin_trap();
        if (c.defaultStaleAfterS && (*c.defaultStaleAfterS < 1 || *c.defaultStaleAfterS > 2592000))
            __builtin_trap();
    });
    expectParsedOrRefused([&] {
        auto a = pulse::http::parseAssignee(text);
        if (a && a->size() != 36) __builtin_trap();
    });
    expectParsedOrRefused([&] {
        if (pulse::http::parseComment(text).empty()) __builtin_trap();
    });
    expectParsedOrRefused([&] {
        auto b = pulse::http::parseBulkAlertAction(text);
        if (b.ids.empty() || b.ids.size() > 200) __builtin_trap();
        if (b.action == "silence" && (b.minutes < 1 || b.minutes > 43200)) __builtin_trap();
    });
    expectParsedOrRefused([&] {
        auto p = pulse::http::parseEscalationPolicy(text);
        if (p.levels.empty() || p.levels.size() > 5 || p.repeat < 0 || p.repeat > 9) __builtin_trap();
        for (const auto& l : p.levels)
            if (l.delayS < 1 || l.delayS > 86400 || l.targets.empty() || l.targets.size() > 10)
                __builtin_trap();
    });
    expectParsedOrRefused([&] {
        auto m = pulse::http::parseContactMethod(text);
        if ((m.kind == "email") != m.address.has_value()) __builtin_trap();
        if (m.address && m.address->find_first_of("\r\n<>") != std::string::npos) __builtin_trap();
    });
    expectParsedOrRefused([&] {
        auto s = pulse::http::parseSchedule(text);
        if (s.layers.empty() || s.layers.size() > 10 || s.timeZone.empty()) __builtin_trap();
        for (const auto& l : s.layers) {
            if (l.members.empty() || l.members.size() > 50 || l.handoff.size() != 5 ||
                l.startDate.size() != 10)
                __builtin_trap();
            if (l.restrictFrom.has_value() != l.restrictTo.has_value() ||
                (l.restrictFrom && *l.restrictFrom == *l.restrictTo))
                __builtin_trap();
            for (int d : l.restrictDays)
                if (d < 1 || d > 7) __builtin_trap();
        }
    });
    expectParsedOrRefused([&] {
        auto o = pulse::http::parseOverride(text);
        if (o.endsAtMs <= o.startsAtMs || o.endsAtMs - o.startsAtMs > 90LL * 24 * 3600 * 1000)
            __builtin_trap();
    });
    expectParsedOrRefused([&] {
        auto w = pulse::http::parseMaintenanceWindow(text);
        if (w.recurrence == "once" ? w.endsAtMs <= w.startsAtMs
                                   : (w.startTime.size() != 5 || w.durationMinutes < 1))
            __builtin_trap();
        if ((w.scope == "site") != w.siteId.has_value() || (w.scope == "devices") == w.deviceIds.empty() ||
            (w.scope == "tag") != w.tag.has_value())
            __builtin_trap();
    });
    return 0;
}
