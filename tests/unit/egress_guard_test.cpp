// The egress guard against the list of docs/reliability.md S8: every form of an internal address is refused,
// public addresses pass, the allow-list is explicit, and only http/https are accepted.
#include "net/EgressGuard.h"
#include "net/OutboundHttp.h"

#include <gtest/gtest.h>

using namespace pulse::net;

TEST(EgressGuard, RefusesEveryInternalForm) {
    EgressGuard guard;
    for (const char* url : {"http://127.0.0.1/",
                            "http://localhost/",
                            "http://[::1]/",
                            "http://0.0.0.0/",
                            "http://10.1.2.3/",
                            "http://172.16.0.1/",
                            "http://172.31.255.255/",
                            "http://192.168.0.1/",
                            "http://100.64.0.1/",
                            "http://169.254.169.254/latest/meta-data/",
                            "http://[fd00::1]/",
                            "http://[fe80::1]/",
                            "http://[::ffff:127.0.0.1]/",
                            "http://[::ffff:10.0.0.1]/",
                            "http://[64:ff9b::a9fe:a9fe]/",
                            "http://2130706433/",
                            "http://0177.0.0.1/",
                            "http://0x7f.1/",
                            "http://224.0.0.1/",
                            "http://255.255.255.255/",
                            "http://[::]/",
                            "https://127.1:8443/x"}) {
        SCOPED_TRACE(url);
        EXPECT_THROW(guard.check(url), EgressDenied);
    }
}

TEST(EgressGuard, RefusesOtherSchemesAndMalformedUrls) {
    EgressGuard guard;
    for (const char* url : {"ftp://example.com/", "file:///etc/passwd", "gopher://x/", "javascript:alert(1)",
                            "http://", "http://user:pw@93.184.216.34/", "not a url"}) {
        SCOPED_TRACE(url);
        EXPECT_THROW(guard.check(url), std::invalid_argument);
    }
}

TEST(EgressGuard, PublicAddressesPassAndTheAllowListIsExplicit) {
    EgressGuard guard;
    auto t = guard.check("https://93.184.216.34:8443/hook?x=1");
    EXPECT_EQ(t.scheme, "https");
    EXPECT_EQ(t.port, 8443);
    EXPECT_EQ(t.pathAndQuery, "/hook?x=1");
    ASSERT_EQ(t.addresses.size(), 1u);
    EXPECT_EQ(t.addresses[0].text(), "93.184.216.34");
    EXPECT_NO_THROW(guard.check("http://[2606:4700::1111]/"));

    EgressGuard allowing({Cidr::parse("127.0.0.1/32"), Cidr::parse("10.20.0.0/16")});
    EXPECT_NO_THROW(allowing.check("http://127.0.0.1:9000/"));
    EXPECT_NO_THROW(allowing.check("http://10.20.3.4/"));
    EXPECT_THROW(allowing.check("http://10.21.0.1/"), EgressDenied);
    EXPECT_THROW(allowing.check("http://127.0.0.2/"), EgressDenied);
}

// The same guard for hosts a sender dials itself (SMTP, SNMP, MQTT: ABI 1.3 egress_resolve).
TEST(EgressGuard, BareHostsGetTheSameChecks) {
    EgressGuard guard;
    for (const char* host :
         {"127.0.0.1", "localhost", "::1", "[::1]", "10.1.2.3", "169.254.169.254", "::ffff:127.0.0.1",
          "64:ff9b::a9fe:a9fe", "2130706433", "0177.0.0.1", "0x7f.1", "fe80::1", "100.64.0.1", "0.0.0.0"}) {
        SCOPED_TRACE(host);
        EXPECT_THROW(guard.checkHost(host), EgressDenied);
    }
    for (const char* host :
         {"", "[]", "relay.example.com:587", "a b", "smtp://x", "x/y", "fe80::1%eth0", "host\nRCPT"}) {
        SCOPED_TRACE(host);
        EXPECT_THROW(guard.checkHost(host), std::invalid_argument);
    }
    EXPECT_THROW(guard.checkHost("no-such-host.invalid"), EgressUnresolved);
    auto addresses = guard.checkHost("93.184.216.34");
    ASSERT_EQ(addresses.size(), 1u);
    EXPECT_EQ(addresses[0].text(), "93.184.216.34");
    EXPECT_EQ(guard.checkHost("[2606:4700::1111]").at(0).text(), "2606:4700::1111");
    EgressGuard allowing({Cidr::parse("127.0.0.1/32")});
    EXPECT_EQ(allowing.checkHost("127.0.0.1").at(0).text(), "127.0.0.1");
    EXPECT_THROW(allowing.checkHost("127.0.0.2"), EgressDenied);
}

TEST(EgressGuard, CidrParsing) {
    EXPECT_TRUE(Cidr::parse("10.0.0.0/8").contains(Cidr::parse("10.255.1.1").network));
    EXPECT_FALSE(Cidr::parse("10.0.0.0/8").contains(Cidr::parse("11.0.0.1").network));
    EXPECT_TRUE(Cidr::parse("fd00::/8").contains(Cidr::parse("fd12::1").network));
    EXPECT_FALSE(Cidr::parse("fd00::/8").contains(Cidr::parse("10.0.0.1").network));
    EXPECT_THROW(Cidr::parse("10.0.0.0/33"), std::invalid_argument);
    EXPECT_THROW(Cidr::parse("example.com"), std::invalid_argument);
    EXPECT_THROW(Cidr::parse("10.0.0.0/"), std::invalid_argument);
}

TEST(OutboundHttp, RetryAfterInSecondsOrAsAnHttpDate) {
    EXPECT_EQ(parseRetryAfter("", 0), -1);
    EXPECT_EQ(parseRetryAfter("7", 0), 7000);
    EXPECT_EQ(parseRetryAfter("soon", 0), -1);
    // Sun, 06 Nov 1994 08:49:37 GMT = 784111777 s
    EXPECT_EQ(parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", 784111777000LL - 5000), 5000);
    EXPECT_EQ(parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", 784111777000LL + 5000), 0);
}

TEST(OutboundHttp, ADeniedTargetIsNeverDialled) {
    OutboundHttp http;
    OutboundRequest req;
    req.url = "http://127.0.0.1:1/";
    auto res = http.send(req);
    EXPECT_EQ(res.outcome, OutboundResponse::Outcome::Denied);
    EXPECT_NE(res.error.find("loopback"), std::string::npos) << res.error;
}

// R7: a name that does not resolve is a passing trouble (a DNS outage), not a refusal: senders retry it.
TEST(OutboundHttp, ANameThatDoesNotResolveIsUnavailableNotDenied) {
    EgressGuard guard;
    EXPECT_THROW(guard.check("https://no-such-host.invalid/hook"),
                 EgressUnresolved);  // .invalid never resolves
    OutboundHttp http;
    OutboundRequest req;
    req.url = "https://no-such-host.invalid/hook";
    auto res = http.send(req);
    EXPECT_EQ(res.outcome, OutboundResponse::Outcome::Unavailable);
    EXPECT_NE(res.error.find("cannot resolve"), std::string::npos) << res.error;
}
