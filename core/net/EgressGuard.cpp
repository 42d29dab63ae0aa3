#include "net/EgressGuard.h"

#include <Poco/URI.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cctype>
#include <cstring>
#include <memory>
#include <optional>

namespace pulse::net {
namespace {

std::optional<IpBytes> parseLiteral(const std::string& text) {
    IpBytes out;
    in6_addr v6{};
    in_addr v4{};
    if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
        out.bytes.assign(reinterpret_cast<uint8_t*>(&v4), reinterpret_cast<uint8_t*>(&v4) + 4);
        return out;
    }
    if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
        out.bytes.assign(v6.s6_addr, v6.s6_addr + 16);
        return out;
    }
    return std::nullopt;
}

bool inPrefix(const std::vector<uint8_t>& a, std::initializer_list<uint8_t> net, unsigned prefix) {
    std::vector<uint8_t> n(net);
    n.resize(a.size(), 0);
    for (unsigned bit = 0; bit < prefix; ++bit) {
        uint8_t mask = static_cast<uint8_t>(0x80u >> (bit % 8));
        if ((a[bit / 8] & mask) != (n[bit / 8] & mask)) return false;
    }
    return true;
}

std::string specialV4(const std::vector<uint8_t>& a) {
    struct Range {
        std::initializer_list<uint8_t> net;
        unsigned prefix;
        const char* what;
    };
    static const Range ranges[] = {
        {{0}, 8, "this-network (0.0.0.0/8)"},
        {{10}, 8, "private (10.0.0.0/8)"},
        {{100, 64}, 10, "shared address space (100.64.0.0/10)"},
        {{127}, 8, "loopback (127.0.0.0/8)"},
        {{169, 254}, 16, "link-local and cloud metadata (169.254.0.0/16)"},
        {{172, 16}, 12, "private (172.16.0.0/12)"},
        {{192, 0, 0}, 24, "IETF protocol assignments (192.0.0.0/24)"},
        {{192, 0, 2}, 24, "documentation (192.0.2.0/24)"},
        {{192, 88, 99}, 24, "6to4 relay anycast (192.88.99.0/24)"},
        {{192, 168}, 16, "private (192.168.0.0/16)"},
        {{198, 18}, 15, "benchmarking (198.18.0.0/15)"},
        {{198, 51, 100}, 24, "documentation (198.51.100.0/24)"},
        {{203, 0, 113}, 24, "documentation (203.0.113.0/24)"},
        {{224}, 4, "multicast (224.0.0.0/4)"},
        {{240}, 4, "reserved and broadcast (240.0.0.0/4)"},
    };
    for (const auto& r : ranges)
        if (inPrefix(a, r.net, r.prefix)) return r.what;
    return "";
}

}  // namespace

std::string IpBytes::text() const {
    char buf[INET6_ADDRSTRLEN] = {0};
    inet_ntop(bytes.size() == 4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
    return buf;
}

Cidr Cidr::parse(const std::string& text) {
    auto slash = text.find('/');
    std::string addr = text.substr(0, slash);
    auto ip = parseLiteral(addr);
    if (!ip) throw std::invalid_argument("not an IP address: " + addr);
    Cidr c;
    c.network = *ip;
    c.prefix = static_cast<unsigned>(ip->bytes.size() * 8);
    if (slash != std::string::npos) {
        std::string p = text.substr(slash + 1);
        if (p.empty() || p.size() > 3 || p.find_first_not_of("0123456789") != std::string::npos)
            throw std::invalid_argument("bad prefix length in " + text);
        unsigned prefix = static_cast<unsigned>(std::stoul(p));
        if (prefix > c.prefix) throw std::invalid_argument("prefix length too long in " + text);
        c.prefix = prefix;
    }
    return c;
}

bool Cidr::contains(const IpBytes& address) const {
    if (address.bytes.size() != network.bytes.size()) return false;
    for (unsigned bit = 0; bit < prefix; ++bit) {
        uint8_t mask = static_cast<uint8_t>(0x80u >> (bit % 8));
        if ((address.bytes[bit / 8] & mask) != (network.bytes[bit / 8] & mask)) return false;
    }
    return true;
}

std::string specialPurpose(const IpBytes& address) {
    const auto& a = address.bytes;
    if (a.size() == 4) return specialV4(a);
    if (a.size() != 16) return "not an IP address";
    auto embedded = [&](size_t offset) {
        return std::vector<uint8_t>(a.begin() + offset, a.begin() + offset + 4);
    };
    // Forms that carry an IPv4 address: judge the IPv4 address.
    if (inPrefix(a, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96)) {
        auto why = specialV4(embedded(12));
        return why.empty() ? "" : "IPv4-mapped " + why;
    }
    if (inPrefix(a, {0x00, 0x64, 0xff, 0x9b}, 96) || inPrefix(a, {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48)) {
        auto why = specialV4(embedded(12));
        return why.empty() ? "" : "NAT64 " + why;
    }
    if (inPrefix(a, {0x20, 0x02}, 16)) {
        auto why = specialV4(embedded(2));
        return why.empty() ? "" : "6to4 " + why;
    }
    struct Range {
        std::initializer_list<uint8_t> net;
        unsigned prefix;
        const char* what;
    };
    static const Range ranges[] = {
        {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, "loopback (::1)"},
        {{0}, 96, "unspecified or IPv4-compatible (::/96)"},
        {{0x01, 0x00, 0, 0, 0, 0, 0, 0}, 64, "discard-only (100::/64)"},
        {{0x20, 0x01, 0x00, 0x00}, 32, "Teredo (2001::/32)"},
        {{0x20, 0x01, 0x0d, 0xb8}, 32, "documentation (2001:db8::/32)"},
        {{0x20, 0x01, 0x00}, 23, "IETF protocol assignments (2001::/23)"},
        {{0xfc}, 7, "unique local (fc00::/7)"},
        {{0xfe, 0x80}, 10, "link-local (fe80::/10)"},
        {{0xfe, 0xc0}, 10, "site-local (fec0::/10)"},
        {{0xff}, 8, "multicast (ff00::/8)"},
    };
    for (const auto& r : ranges)
        if (inPrefix(a, r.net, r.prefix)) return r.what;
    return "";
}

std::string EgressGuard::refusal(const IpBytes& address) const {
    std::string why = specialPurpose(address);
    if (why.empty()) return "";
    for (const auto& c : allow_)
        if (c.contains(address)) return "";
    return address.text() + " is " + why + " and not on egress.allow";
}

EgressTarget parseTarget(const std::string& url) {
    Poco::URI uri;
    try {
        uri = Poco::URI(url);
    } catch (const std::exception& e) {
        throw std::invalid_argument("malformed URL: " + std::string(e.what()));
    }
    EgressTarget t;
    t.scheme = uri.getScheme();
    if (t.scheme != "http" && t.scheme != "https")
        throw std::invalid_argument("only http and https URLs are allowed, not '" + t.scheme + "'");
    t.host = uri.getHost();
    if (t.host.empty()) throw std::invalid_argument("the URL has no host");
    if (!uri.getUserInfo().empty()) throw std::invalid_argument("credentials in the URL are not allowed");
    t.port = uri.getPort();
    // The path and query exactly as written (Poco would re-encode reserved characters such as ',').
    size_t authority = url.find("://");
    size_t start = url.find_first_of("/?#", authority == std::string::npos ? 0 : authority + 3);
    t.pathAndQuery = start == std::string::npos ? "/" : url.substr(start, url.find('#', start) - start);
    if (t.pathAndQuery.empty() || t.pathAndQuery[0] != '/') t.pathAndQuery = "/" + t.pathAndQuery;
    for (char c : t.pathAndQuery)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
            throw std::invalid_argument("the URL contains spaces or control characters");
    return t;
}

EgressTarget EgressGuard::check(const std::string& url) const {
    EgressTarget t = parseTarget(url);
    t.addresses = checkHost(t.host);
    return t;
}

std::vector<IpBytes> EgressGuard::checkHost(const std::string& hostText) const {
    std::string host = hostText;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) throw std::invalid_argument("the host is empty");
    if (host.size() > 253) throw std::invalid_argument("the host is longer than 253 characters");
    // Names, IPv4 and IPv6 literals only: no ports, paths, spaces or a zone index that picks an interface.
    for (char c : host)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != ':' && c != '_')
            throw std::invalid_argument("the host '" + hostText + "' is not a name or an IP address");
    // A colon belongs to IPv6 literals only: "relay.example.com:587" carries a port the field does not take.
    if (host.find(':') != std::string::npos && !parseLiteral(host))
        throw std::invalid_argument("the host '" + hostText +
                                    "' is not a name or an IP address (no port here)");

    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* raw = nullptr;
    int rc = getaddrinfo(host.c_str(), nullptr, &hints, &raw);
    if (rc != 0) throw EgressUnresolved("cannot resolve " + host + ": " + gai_strerror(rc));
    std::unique_ptr<addrinfo, void (*)(addrinfo*)> list(raw, &freeaddrinfo);
    std::vector<IpBytes> addresses;
    for (addrinfo* ai = raw; ai; ai = ai->ai_next) {
        IpBytes ip;
        if (ai->ai_family == AF_INET) {
            auto* sin = reinterpret_cast<sockaddr_in*>(ai->ai_addr);
            auto* p = reinterpret_cast<uint8_t*>(&sin->sin_addr);
            ip.bytes.assign(p, p + 4);
        } else if (ai->ai_family == AF_INET6) {
            auto* sin6 = reinterpret_cast<sockaddr_in6*>(ai->ai_addr);
            ip.bytes.assign(sin6->sin6_addr.s6_addr, sin6->sin6_addr.s6_addr + 16);
        } else {
            continue;
        }
        // One refused address refuses the name: a name that mixes public and internal answers is an attack.
        if (std::string why = refusal(ip); !why.empty()) throw EgressDenied(host + ": " + why);
        bool seen = false;
        for (const auto& a : addresses) seen = seen || a.bytes == ip.bytes;
        if (!seen) addresses.push_back(ip);
    }
    if (addresses.empty()) throw EgressUnresolved("no address for " + host);
    return addresses;
}

}  // namespace pulse::net
