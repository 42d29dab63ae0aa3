#include "services/AcknowledgeLinks.h"

#include "json/JsonText.h"
#include "services/LinkSigner.h"

#include <Poco/JSON/Parser.h>
#include <Poco/StringTokenizer.h>

namespace pulse::services {
namespace {

bool isDigits(const std::string& s) {
    return !s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

std::string acknowledgeToken(const LinkSigner& signer, const AcknowledgeClaim& c) {
    return signer.sign("ack1|" + c.tenantId + "|" + std::to_string(c.alertId) + "|" +
                       std::to_string(c.deliveryId) + "|" + c.userId + "|" + std::to_string(c.expiresMs));
}

std::optional<AcknowledgeClaim> readAcknowledgeToken(const LinkSigner& signer, const std::string& token) {
    auto payload = signer.verify(token);
    if (!payload) return std::nullopt;
    // ack1|tenant|alert|delivery|user (empty for a channel)|expires
    Poco::StringTokenizer parts(*payload, "|");
    if (parts.count() != 6 || parts[0] != "ack1" || !isDigits(parts[2]) || !isDigits(parts[3]) ||
        !isDigits(parts[5]))
        return std::nullopt;
    AcknowledgeClaim c;
    c.tenantId = parts[1];
    c.alertId = std::stoll(parts[2]);
    c.deliveryId = std::stoll(parts[3]);
    c.userId = parts[4];
    c.expiresMs = std::stoll(parts[5]);
    return c;
}

std::string withAcknowledgeLink(const std::string& payloadJson, const LinkSigner& signer,
                                const std::string& consoleUrl, long long deliveryId, long long nowMs,
                                int ttlS) {
    if (ttlS <= 0 || consoleUrl.empty() || !signer.hasKey()) return payloadJson;
    try {
        auto notice = Poco::JSON::Parser().parse(payloadJson).extract<Poco::JSON::Object::Ptr>();
        std::string type = notice->optValue<std::string>("type", "");
        auto alert = notice->getObject("alert");
        auto tenant = notice->getObject("tenant");
        // A group's notice lists several alerts: a link acknowledging one of them would mislead.
        if ((type != "alert.opened" && type != "alert.escalated") || !alert || !tenant ||
            notice->has("group") || alert->optValue<std::string>("status", "") != "OPEN")
            return payloadJson;
        AcknowledgeClaim c;
        c.tenantId = tenant->optValue<std::string>("id", "");
        c.alertId = alert->optValue<long long>("id", 0);
        c.deliveryId = deliveryId;
        if (auto recipient = notice->getObject("recipient"))
            c.userId = recipient->optValue<std::string>("user_id", "");
        c.expiresMs = nowMs + ttlS * 1000LL;
        if (c.tenantId.empty() || c.alertId <= 0) return payloadJson;
        std::string base = consoleUrl;
        while (!base.empty() && base.back() == '/') base.pop_back();
        Poco::JSON::Object::Ptr links = notice->getObject("links");
        if (!links) {
            links = new Poco::JSON::Object;
            notice->set("links", links);
        }
        links->set("acknowledge", base + "/api/v1/acknowledge/" + acknowledgeToken(signer, c));
        return json::toJsonText(notice);
    } catch (const Poco::Exception&) {
        return payloadJson;  // not ours to refuse: the sender reports what it cannot read
    }
}

}  // namespace pulse::services
