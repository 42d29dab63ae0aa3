#include "PulseMib.h"

namespace pulse::pulse_mib {

const std::vector<uint32_t> kSysUpTime{1, 3, 6, 1, 2, 1, 1, 3, 0};
const std::vector<uint32_t> kSnmpTrapOid{1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};
const std::vector<uint32_t> kAlertNotification{1, 3, 6, 1, 4, 1, 32473, 1, 0, 1};

namespace {

// pulseObjects.N.0
std::vector<uint32_t> object(uint32_t n) {
    return {1, 3, 6, 1, 4, 1, 32473, 1, 1, n, 0};
}

// The MIB's enumerations: open(1), acknowledged(2), closed(3); critical(1) ... info(5).
int64_t stateOf(const AlertNotice& n) {
    switch (n.kind) {
        case NoticeKind::Acknowledged:
            return 2;
        case NoticeKind::Closed:
            return 3;
        default:
            return 1;
    }
}

int64_t severityOf(const std::string& severity) {
    if (severity == "CRITICAL") return 1;
    if (severity == "HIGH") return 2;
    if (severity == "MEDIUM") return 3;
    if (severity == "LOW") return 4;
    return 5;
}

Varbind text(uint32_t n, const std::string& value) {
    return {object(n), Syntax::OctetString, 0, notice::truncate_utf8(value, 255), {}};
}

}  // namespace

std::vector<Varbind> notification(const AlertNotice& n, int64_t uptimeCentiseconds) {
    // TimeTicks and Unsigned32 are 32 bits: uptime wraps after 497 days as sysUpTime does; an alert id past
    // 2^32 - 1 cannot be written and is sent as that maximum (ids are a per-installation sequence).
    int64_t id = n.alert_id < 0 ? 0 : n.alert_id > 4294967295LL ? 4294967295LL : n.alert_id;
    return {
        {kSysUpTime, Syntax::TimeTicks, uptimeCentiseconds % 4294967296LL, {}, {}},
        {kSnmpTrapOid, Syntax::ObjectIdentifier, 0, {}, kAlertNotification},
        {object(1), Syntax::Unsigned32, id, {}, {}},
        {object(2), Syntax::Integer, stateOf(n), {}, {}},
        {object(3), Syntax::Integer, severityOf(n.severity), {}, {}},
        text(4, n.tenant_name.empty() ? n.tenant_slug : n.tenant_name),
        text(5, n.device_name),
        text(6, n.site_name),
        text(7, n.rule_name),
        text(8, n.summary),
    };
}

std::string dotted(const std::vector<uint32_t>& oid) {
    std::string out;
    for (uint32_t part : oid) {
        if (!out.empty()) out += '.';
        out += std::to_string(part);
    }
    return out;
}

}  // namespace pulse::pulse_mib
