// /health/ready and the REST API while the database is really stopped (scripts/stack pg-stop), and
// recovery when it is back. Runs alone: it stops the PostgreSQL every other test uses.
#include "services/PasswordHasher.h"
#include "storage/MigrationRunner.h"
#include "storage/PgConnection.h"
#include "test_env.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

using namespace pulse::test;

namespace {

// Polls until the predicate holds or the timeout passes; returns the seconds it took, or -1.
template <class Pred>
double within(int timeoutS, Pred&& pred) {
    auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < std::chrono::seconds(timeoutS)) {
        if (pred()) return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return -1;
}

struct RestartDatabaseAtExit {
    ~RestartDatabaseAtExit() { stack("pg-start"); }
};

}  // namespace

TEST(DatabaseOutage, ReadinessFailsWhileTheDatabaseIsDownAndRecovers) {
    int port = freePort();
    std::string dir = tempDir("outage");
    std::string config = writePulseConfig(dir, port, dir);
    Pulsed pulsed(config, dbEnv());
    ASSERT_TRUE(pulsed.started());
    ASSERT_EQ(httpGet(port, "/health/ready").status, 200);
    // A signed-in user, for a REST call during the outage.
    std::string slug = "outage-" + std::to_string(getpid()), email = "admin@" + slug + ".test";
    {
        pulse::storage::PgConnection owner(ownerUri());
        pulse::storage::MigrationRunner(PULSE_SOURCE_DIR "/sql").migrate(owner, "pulse_app");
        owner.query(
            "WITH t AS (INSERT INTO pulse.tenants (slug, name) VALUES ($1, $1) RETURNING id) INSERT INTO "
            "pulse.users (tenant_id, email, role, password_hash) SELECT t.id, $2, 'tenant-admin', $3 FROM t",
            {slug, email, pulse::services::hashPassword("correct horse battery staple")});
    }
    auto login = httpSend(port, "POST", "/api/v1/session",
                          "{\"email\":\"" + email + "\",\"password\":\"correct horse battery staple\"}",
                          {{"Content-Type", "application/json"}});
    ASSERT_EQ(login.status, 201) << login.body;
    std::string cookie = login.headers["Set-Cookie"].substr(0, login.headers["Set-Cookie"].find(';'));

    RestartDatabaseAtExit guard;
    ASSERT_TRUE(stack("pg-stop"));
    HttpResult down;
    double failedAfter = within(15, [&] { return (down = httpGet(port, "/health/ready")).status == 503; });
    ASSERT_GE(failedAfter, 0) << down.body;
    EXPECT_NE(down.body.find(R"("status":"not_ready","checks":{"database":"error: )"), std::string::npos)
        << down.body;
    EXPECT_EQ(httpGet(port, "/health").status, 503);
    EXPECT_EQ(httpGet(port, "/health/live").status, 200);  // the process itself is fine
    // R4: the REST API says to come back, not that it failed.
    auto rest = httpGet(port, "/api/v1/devices", "GET", {{"Cookie", cookie}});
    EXPECT_EQ(rest.status, 503) << rest.body;
    EXPECT_EQ(rest.headers["Retry-After"], "5") << rest.body;
    EXPECT_NE(rest.body.find("the database is unavailable"), std::string::npos) << rest.body;
    std::cout << "[ figure   ] readiness reported the outage after " << failedAfter << " s\n";

    ASSERT_TRUE(stack("pg-start"));
    double recoveredAfter = within(30, [&] { return httpGet(port, "/health/ready").status == 200; });
    EXPECT_GE(recoveredAfter, 0) << "readiness did not recover";
    std::cout << "[ figure   ] readiness recovered " << recoveredAfter << " s after the database started\n";
    EXPECT_FALSE(pulsed.process().wait(0).has_value()) << "pulsed exited during the outage";
}
