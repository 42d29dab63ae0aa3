// The migration runner against the real PostgreSQL: order, checksums, refusal of changed or unknown
// migrations, rollback of a failing one, one application across concurrent starters, grants.
#include "storage/MigrationRunner.h"
#include "test_env.h"

#include <Poco/File.h>
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>

using namespace pulse::storage;
using namespace pulse::test;

namespace {

std::string errorOf(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const DatabaseError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(Migrations, AppliesTheProjectSchemaOnceAndGrantsTheAppRole) {
    ScratchDatabase db("mig_project");
    PgConnection owner(db.ownerUri());
    MigrationRunner runner(PULSE_SOURCE_DIR "/sql");
    auto files = runner.discover();
    ASSERT_FALSE(files.empty());
    auto applied = runner.migrate(owner, "pulse_app");
    EXPECT_EQ(applied.size(), files.size());
    EXPECT_TRUE(runner.migrate(owner, "pulse_app").empty());
    auto ledger = owner.query("SELECT version, checksum FROM pulse_meta.schema_migrations ORDER BY version");
    ASSERT_EQ(ledger.rows.size(), files.size());
    EXPECT_EQ(*ledger.rows[0][1], files[0].checksum);

    PgConnection app(db.appUri());
    EXPECT_NO_THROW(app.query("SELECT count(*) FROM pulse.tenants"));
    EXPECT_THROW(app.exec("DROP TABLE pulse.tenants"), DatabaseError);         // not the owner
    EXPECT_NO_THROW(app.query("SELECT * FROM pulse_meta.schema_migrations"));  // to check, read-only
    EXPECT_THROW(app.exec("DELETE FROM pulse_meta.schema_migrations"), DatabaseError);
    EXPECT_TRUE(runner.pending(app).empty());
}

TEST(Migrations, RefusesAChangedAppliedMigration) {
    ScratchDatabase db("mig_changed");
    std::string dir = tempDir("mig-changed");
    writeFile(dir + "/001_first.sql", "CREATE SCHEMA pulse; CREATE TABLE pulse.a (x int);");
    PgConnection owner(db.ownerUri());
    MigrationRunner runner(dir);
    runner.migrate(owner, "pulse_app");
    writeFile(dir + "/001_first.sql", "CREATE SCHEMA pulse; CREATE TABLE pulse.a (x bigint);");
    std::string err = errorOf([&] { runner.migrate(owner, "pulse_app"); });
    EXPECT_NE(err.find("migration 001_first.sql was changed after it was applied"), std::string::npos) << err;
    err = errorOf([&] { runner.pending(owner); });
    EXPECT_NE(err.find("was changed"), std::string::npos) << err;
}

TEST(Migrations, RefusesAnAppliedMigrationThisBuildLacks) {
    ScratchDatabase db("mig_unknown");
    std::string dir = tempDir("mig-unknown");
    writeFile(dir + "/001_first.sql", "CREATE SCHEMA pulse;");
    writeFile(dir + "/002_second.sql", "CREATE TABLE pulse.b (x int);");
    PgConnection owner(db.ownerUri());
    MigrationRunner(dir).migrate(owner, "pulse_app");
    Poco::File(dir + "/002_second.sql").remove();
    std::string err = errorOf([&] { MigrationRunner(dir).migrate(owner, "pulse_app"); });
    EXPECT_NE(err.find("has migration 002_second.sql (version 2)"), std::string::npos) << err;
}

TEST(Migrations, AFailingMigrationIsRolledBackAndNamed) {
    ScratchDatabase db("mig_failing");
    std::string dir = tempDir("mig-failing");
    writeFile(dir + "/001_first.sql", "CREATE SCHEMA pulse;");
    writeFile(dir + "/002_broken.sql", "CREATE TABLE pulse.c (x int); SELECT no_such_function();");
    PgConnection owner(db.ownerUri());
    std::string err = errorOf([&] { MigrationRunner(dir).migrate(owner, "pulse_app"); });
    EXPECT_NE(err.find("migration 002_broken.sql failed"), std::string::npos) << err;
    EXPECT_NE(err.find("no_such_function"), std::string::npos) << err;
    EXPECT_EQ(*owner.query("SELECT count(*) FROM pulse_meta.schema_migrations").rows[0][0], "1");
    EXPECT_EQ(*owner.query("SELECT to_regclass('pulse.c') IS NULL").rows[0][0], "t");
}

TEST(Migrations, BadFileNamesAndDuplicateVersionsAreRefused) {
    std::string dir = tempDir("mig-names");
    writeFile(dir + "/1_short.sql", "SELECT 1;");
    EXPECT_NE(errorOf([&] { MigrationRunner(dir).discover(); }).find("is not named NNN_lowercase_name.sql"),
              std::string::npos);
    Poco::File(dir + "/1_short.sql").remove();
    writeFile(dir + "/003_a.sql", "SELECT 1;");
    writeFile(dir + "/003_b.sql", "SELECT 1;");
    EXPECT_NE(errorOf([&] { MigrationRunner(dir).discover(); }).find("share version 3"), std::string::npos);
}

TEST(Migrations, ConcurrentStartersApplyEachMigrationOnce) {
    ScratchDatabase db("mig_concurrent");
    std::string dir = tempDir("mig-concurrent");
    writeFile(dir + "/001_first.sql", "CREATE SCHEMA pulse; CREATE TABLE pulse.runs (n int);");
    // Slow enough that the starters overlap; a second application would fail on the duplicate table.
    writeFile(dir + "/002_slow.sql",
              "SELECT pg_sleep(0.5); CREATE TABLE pulse.slow (n int); INSERT INTO pulse.runs VALUES (1);");
    std::atomic<int> errors{0}, appliedTotal{0};
    std::vector<std::thread> starters;
    for (int i = 0; i < 4; ++i) {
        starters.emplace_back([&] {
            try {
                PgConnection owner(db.ownerUri());
                appliedTotal += static_cast<int>(MigrationRunner(dir).migrate(owner, "pulse_app").size());
            } catch (const std::exception& e) {
                ++errors;
                ADD_FAILURE() << e.what();
            }
        });
    }
    for (auto& t : starters) t.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(appliedTotal.load(), 2);
    PgConnection check(db.ownerUri());
    EXPECT_EQ(*check.query("SELECT count(*) FROM pulse.runs").rows[0][0], "1");
}

TEST(Migrations, UnknownAppRoleIsNamed) {
    ScratchDatabase db("mig_role");
    PgConnection owner(db.ownerUri());
    std::string err =
        errorOf([&] { MigrationRunner(PULSE_SOURCE_DIR "/sql").migrate(owner, "no_such_role"); });
    EXPECT_NE(err.find("db.app_role no_such_role does not exist"), std::string::npos) << err;
}
