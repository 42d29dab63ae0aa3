// The PULSE-MIB notification (mibs/PULSE-MIB.txt) of an alert notice: which objects it carries, with which
// syntax, in which order. No net-snmp types here, so that the mapping is tested without a session.
#pragma once

#include <pulse/notice.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace pulse::pulse_mib {

enum class Syntax { Integer, Unsigned32, OctetString, ObjectIdentifier, TimeTicks };

struct Varbind {
    std::vector<uint32_t> name;  // the instance's OID
    Syntax syntax;
    int64_t number = 0;         // Integer, Unsigned32, TimeTicks
    std::string octets;         // OctetString
    std::vector<uint32_t> oid;  // ObjectIdentifier
};

// sysUpTime.0 and snmpTrapOID.0 (RFC 3416 section 4.2.6), the two varbinds every notification starts with.
extern const std::vector<uint32_t> kSysUpTime;
extern const std::vector<uint32_t> kSnmpTrapOid;
// pulseAlertNotification: enterprises.32473.1.0.1
extern const std::vector<uint32_t> kAlertNotification;

// The whole varbind list of the notice's notification: sysUpTime.0 (uptimeCentiseconds), snmpTrapOID.0, then
// pulseAlertId ... pulseAlertSummary (scalar instances, .0), strings cut at a character boundary to 255
// octets.
std::vector<Varbind> notification(const AlertNotice& notice, int64_t uptimeCentiseconds);

// "1.3.6.1.4.1.32473.1.1.5.0", for logs and tests.
std::string dotted(const std::vector<uint32_t>& oid);

}  // namespace pulse::pulse_mib
