// libFuzzer target: what the egress guard parses from tenant-chosen input (URLs, allow-list CIDRs) and
// Retry-After values from outside servers. No name is resolved here: fuzzing must not touch the network.
#include "net/EgressGuard.h"
#include "net/OutboundHttp.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    try {
        auto t = pulse::net::parseTarget(text);
        if ((t.scheme != "http" && t.scheme != "https") || t.host.empty() || t.pathAndQuery.empty() ||
            t.pathAndQuery[0] != '/')
            __builtin_trap();
        for (char c : t.pathAndQuery)
            if (static_cast<unsigned char>(c) <= 0x20) __builtin_trap();
    } catch (const std::invalid_argument&) {
    }
    try {
        auto c = pulse::net::Cidr::parse(text);
        if (c.prefix > c.network.bytes.size() * 8) __builtin_trap();
    } catch (const std::invalid_argument&) {
    }
    if (size == 4 || size == 16) {
        pulse::net::IpBytes ip;
        ip.bytes.assign(data, data + size);
        (void)pulse::net::specialPurpose(ip);
        (void)ip.text();
    }
    int64_t ms = pulse::net::parseRetryAfter(text, 1700000000000LL);
    if (ms < -1) __builtin_trap();
    return 0;
}
