#pragma once

// What the REST API tests (api_*_test.cpp) share: one real pulsed over PostgreSQL, started by the first
// Api suite and stopped when the test binary ends, and the helpers to call it as a browser (session
// cookie and CSRF token), an API key or a device would. Each suite gets two tenants of its own, so no
// suite depends on what another one created or on the order the suites run in.
#include "test_env.h"

#include <Poco/JSON/Object.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pulse::test {

// pulsed's database environment: the application role, and the owner for its migrations.

// The body as a JSON object; fails the test (and gives an empty object) when it is none.
Poco::JSON::Object::Ptr json(const std::string& text);

// The first column of the first row, as the schema owner ("" when there is none or it is NULL).
std::string scalar(const std::string& sql, const std::vector<std::optional<std::string>>& params = {});

// Every user the API tests make signs in with this password.
inline const std::string kPassword = "correct horse battery staple";

struct TenantFixture {
    std::string id, slug, admin, customer, deviceId, alertId, ruleId, channelId, siteId, metricId, adminId;
};

// A tenant with a tenant-admin, a customer, a device and an open alert (written as the owner).
TenantFixture makeTenant(const std::string& slug, const std::string& passwordHash);

struct Session {
    std::string cookie, csrf;
};

// The base of every Api* suite that talks to the shared server.
class ApiTest : public ::testing::Test {
  protected:
    // Starts the shared server if no suite has yet, and makes this suite's tenants a_ and b_.
    static void SetUpTestSuite();

    static HttpResult call(const std::string& method, const std::string& path, const std::string& body = "",
                           std::map<std::string, std::string> headers = {});
    static Session login(const std::string& email, const std::string& from = "198.51.100.1");
    static std::map<std::string, std::string> with(const Session& s, bool csrf = true);
    static std::string newKey(const Session& admin, const std::string& role = "tenant-admin");
    // Device telemetry through the ingest_http plugin, as a device would send it.
    static int ingest(const std::string& token, const std::string& body);

    static TenantFixture a_, b_;
    static std::string operatorAdmin_;  // one for the whole server: operators span the tenants
    static int port_;
};

}  // namespace pulse::test
