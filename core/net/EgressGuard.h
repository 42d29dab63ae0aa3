#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace pulse::net {

// An IPv4 or IPv6 address as raw bytes (4 or 16), in network order.
struct IpBytes {
    std::vector<uint8_t> bytes;
    std::string text() const;
};

// A network in CIDR notation ("10.1.0.0/16", "::1/128", "127.0.0.1" = /32).
struct Cidr {
    IpBytes network;
    unsigned prefix = 0;
    static Cidr parse(const std::string& text);  // throws std::invalid_argument
    bool contains(const IpBytes& address) const;
};

class EgressDenied : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// The host's name did not resolve (or resolved to nothing) just now: a DNS outage passes, so a sender retries
// (RELIABILITY.md R7) instead of dead-lettering.
class EgressUnresolved : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// A URL after the guard has looked at it: where to connect, and as whom to present.
struct EgressTarget {
    std::string scheme;  // "http" or "https"
    std::string host;    // as written in the URL (the Host header, TLS server name)
    uint16_t port = 0;
    std::string pathAndQuery;
    std::vector<IpBytes> addresses;  // resolved and allowed; connect to these only
};

// Keeps tenant-chosen URLs (webhooks, Slack, Teams...) away from the machine and its networks: resolves
// the host, refuses loopback, private, shared, link-local, multicast, reserved and documentation
// addresses (IPv4-mapped and NAT64 forms included) unless an administrator put them on the allow-list,
// and hands back the addresses it checked so that the caller dials exactly those (no second resolution
// that DNS rebinding could answer differently).
class EgressGuard {
  public:
    explicit EgressGuard(std::vector<Cidr> allow = {}) : allow_(std::move(allow)) {}

    // Why this address may not be dialled; empty when it may.
    std::string refusal(const IpBytes& address) const;
    // Parses and checks a URL. Throws std::invalid_argument for a malformed URL or another scheme than
    // http/https, EgressDenied when its host is or resolves to a refused address, EgressUnresolved when it
    // does not resolve.
    EgressTarget check(const std::string& url) const;
    // The same for a bare host a sender dials itself (SMTP, SNMP, MQTT): a DNS name, an IP literal or
    // [IPv6]. Returns the allowed addresses, in the resolver's order. Throws std::invalid_argument for a
    // malformed name, EgressDenied, EgressUnresolved as check() does.
    std::vector<IpBytes> checkHost(const std::string& host) const;

    const std::vector<Cidr>& allowList() const { return allow_; }

  private:
    std::vector<Cidr> allow_;
};

// Parses an http/https URL without resolving it (addresses left empty). Throws std::invalid_argument.
EgressTarget parseTarget(const std::string& url);

// Why an address is special-purpose (not a public unicast address); empty when it is public.
std::string specialPurpose(const IpBytes& address);

}  // namespace pulse::net
