// The application pool and the demo seed against the real PostgreSQL (schema applied by the test stack's
// own migration in SetUpTestSuite).
#include "storage/Database.h"
#include "app/Subsystems.h"
#include "services/DemoSeed.h"
#include "services/PasswordHasher.h"
#include "storage/MigrationRunner.h"
#include "test_env.h"

#include <Poco/Data/Session.h>
#include <Poco/DirectoryIterator.h>
#include <gtest/gtest.h>

using namespace pulse;
using namespace Poco::Data::Keywords;

class DatabaseTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        storage::PgConnection owner(test::ownerUri());
        storage::MigrationRunner(PULSE_SOURCE_DIR "/sql").migrate(owner, "pulse_app");
    }
};

TEST_F(DatabaseTest, AppRoleIsUnprivilegedAndOwnerIsNot) {
    storage::Database app(test::appUri(), 1, 2);
    EXPECT_NO_THROW(app.ping());
    EXPECT_TRUE(app.privilegeProblems().empty());
    storage::Database owner(test::ownerUri(), 1, 2);
    auto problems = owner.privilegeProblems();
    ASSERT_FALSE(problems.empty());
    EXPECT_NE(problems[0].find("role pulse_owner owns"), std::string::npos) << problems[0];
}

TEST_F(DatabaseTest, PingFailsClearlyWhenUnreachable) {
    storage::Database nowhere("host=127.0.0.1 port=1 dbname=x user=y connect_timeout=2", 0, 1);
    try {
        nowhere.ping();
        FAIL();
    } catch (const storage::DatabaseError& e) {
        EXPECT_NE(std::string(e.what()).find("cannot connect to PostgreSQL: no response from the server"),
                  std::string::npos)
            << e.what();
    }
}

TEST_F(DatabaseTest, DemoSeedIsIdempotentAndTheLoginWorks) {
    storage::Database db(test::appUri(), 1, 2);
    services::seedDemo(db, "Demo.Seed@Pulse.Local", "first-password");
    services::seedDemo(db, "demo.seed@pulse.local", "second-password");
    int users = 0;
    std::string hash, role, tenant;
    storage::Database owner(test::ownerUri(), 1, 1);  // users are tenant rows: the owner sees them all
    owner.withSession([&](Poco::Data::Session& s) {
        s << "SELECT count(*)::integer FROM pulse.users WHERE email = 'demo.seed@pulse.local'", into(users),
            now;
        s << "SELECT u.password_hash, u.role, t.slug FROM pulse.users u JOIN pulse.tenants t ON t.id = "
             "u.tenant_id "
             "WHERE u.email = 'demo.seed@pulse.local'",
            into(hash), into(role), into(tenant), now;
    });
    EXPECT_EQ(users, 1);
    EXPECT_EQ(role, "tenant-admin");
    EXPECT_EQ(tenant, "demo");
    EXPECT_TRUE(services::verifyPassword(hash, "second-password"));
    EXPECT_FALSE(services::verifyPassword(hash, "first-password"));
}

TEST_F(DatabaseTest, MigrationCheckWithoutOwnerReportsPending) {
    auto s = config::defaults();
    s.db.uri = test::appUri();
    s.db.migrationsDir = test::tempDir("pending");
    for (Poco::DirectoryIterator it(std::string(PULSE_SOURCE_DIR "/sql")), end; it != end; ++it)
        test::writeFile(s.db.migrationsDir + "/" + it.name(), test::readFile(it->path()));
    test::writeFile(s.db.migrationsDir + "/999_future.sql", "SELECT 1;");
    s.db.connectTimeoutS = 3;
    s.db.startupTimeoutS = 0;
    try {
        app::migrateOrCheck(s, false);
        FAIL();
    } catch (const storage::DatabaseError& e) {
        EXPECT_NE(std::string(e.what()).find("1 migration(s) pending, starting with 999_future.sql"),
                  std::string::npos)
            << e.what();
    }
}
