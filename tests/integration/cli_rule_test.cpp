// pulsed --create-rule saves through the API's rule path (services::RuleService), with its checks: the
// plugin's schema, the tenant's own site or device as the scope, a severity it knows, a free name.
#include "storage/MigrationRunner.h"
#include "storage/PgConnection.h"
#include "test_env.h"

#include <Poco/File.h>
#include <gtest/gtest.h>

#include <pwd.h>
#include <unistd.h>

using namespace pulse::test;

namespace {

class CliRule : public ::testing::Test {
  protected:
    void SetUp() override {
        pulse::storage::PgConnection owner(ownerUri());
        pulse::storage::MigrationRunner(PULSE_SOURCE_DIR "/sql").migrate(owner, "pulse_app");
        std::string suffix = std::to_string(getpid()) + "-" + std::to_string(counter_++);
        tenant_ = "cli-rule-" + suffix;
        std::string id =
            *owner
                 .query("INSERT INTO pulse.tenants (slug, name) VALUES ($1, $1) RETURNING id::text",
                        {tenant_})
                 .rows[0][0];
        siteId_ = *owner
                       .query(
                           "INSERT INTO pulse.sites (tenant_id, name) VALUES ($1::uuid, 'plant') RETURNING "
                           "id::text",
                           {id})
                       .rows[0][0];
        // Another tenant's site, named like one this tenant does not have.
        std::string other =
            *owner
                 .query("INSERT INTO pulse.tenants (slug, name) VALUES ($1, $1) RETURNING id::text",
                        {"cli-other-" + suffix})
                 .rows[0][0];
        owner.query("INSERT INTO pulse.sites (tenant_id, name) VALUES ($1::uuid, 'elsewhere')", {other});
        std::string dir = tempDir("cli-rule");
        std::string pluginsD = dir + "/plugins.d";
        Poco::File(pluginsD).createDirectories();
        writeFile(pluginsD + "/rules.properties", "plugin.library = wrapper_rule.so\n");
        config_ = writePulseConfig(dir, freePort(), pluginsD);
    }

    // Runs pulsed --create-rule <tenant>/<name> with the extra options; returns its exit code.
    int createRule(const std::string& name, const std::vector<std::string>& options, std::string& out) {
        std::vector<std::string> argv = {pulsedBinary(),       "--config", config_,         "--create-rule",
                                         tenant_ + "/" + name, "--type",   "test_threshold"};
        argv.insert(argv.end(), options.begin(), options.end());
        return run(argv, dbEnv(), out);
    }

    std::string stored(const std::string& name, const std::string& column) {
        pulse::storage::PgConnection owner(ownerUri());
        auto rows = owner.query("SELECT " + column +
                                    "::text FROM pulse.rules r JOIN pulse.tenants t ON t.id = r.tenant_id "
                                    "WHERE t.slug = $1 AND r.name = $2",
                                {tenant_, name});
        return rows.rows.empty() ? "<none>" : rows.rows[0][0].value_or("<null>");
    }

    static inline int counter_ = 0;
    std::string tenant_, siteId_, config_;
};

const char* kConfig = R"({"metric":"temperature","above":30,"clear_below":25})";

}  // namespace

TEST_F(CliRule, AnUnknownSiteIsRefusedNotDropped) {
    std::string out;
    EXPECT_EQ(createRule("nowhere", {"--json", kConfig, "--scope", "site:nowhere"}, out), 78) << out;
    EXPECT_NE(out.find("rule refused: no such site 'nowhere'"), std::string::npos) << out;
    EXPECT_EQ(stored("nowhere", "r.id"), "<none>");

    // Another tenant's site is refused like an unknown one.
    EXPECT_EQ(createRule("foreign", {"--json", kConfig, "--scope", "site:elsewhere"}, out), 78) << out;
    EXPECT_NE(out.find("no such site 'elsewhere'"), std::string::npos) << out;
    EXPECT_EQ(stored("foreign", "r.id"), "<none>");

    EXPECT_EQ(
        createRule("at the plant", {"--json", kConfig, "--scope", "site:plant", "--severity", "HIGH"}, out),
        0)
        << out;
    EXPECT_NE(out.find("rule:          " + tenant_ + "/at the plant (id "), std::string::npos) << out;
    EXPECT_EQ(stored("at the plant", "r.scope_site_id"), siteId_);
    EXPECT_EQ(stored("at the plant", "r.severity"), "HIGH");
}

TEST_F(CliRule, TheApiChecksApply) {
    std::string out;
    EXPECT_EQ(createRule("unknown device", {"--json", kConfig, "--scope", "device:ghost"}, out), 78) << out;
    EXPECT_NE(out.find("no such device 'ghost'"), std::string::npos) << out;
    EXPECT_EQ(createRule("bad schema", {"--json", R"({"above":30})"}, out), 78) << out;
    EXPECT_EQ(stored("bad schema", "r.id"), "<none>");
    // The plugin itself refuses what its schema allows.
    EXPECT_EQ(createRule("refused", {"--json", R"({"metric":"t","above":1,"fail_create":true})"}, out), 78)
        << out;
    EXPECT_NE(out.find("the rule plugin refuses the config"), std::string::npos) << out;
    EXPECT_EQ(createRule("loud", {"--json", kConfig, "--severity", "LOUD"}, out), 78) << out;
    EXPECT_NE(out.find("severity must be CRITICAL, HIGH, MEDIUM, LOW or INFO"), std::string::npos) << out;

    EXPECT_EQ(createRule("tagged", {"--json", kConfig, "--scope", "tag:roof"}, out), 0) << out;
    EXPECT_EQ(stored("tagged", "r.scope_tag"), "roof");
    EXPECT_EQ(createRule("tagged", {"--json", kConfig}, out), 78) << out;
    EXPECT_NE(out.find("a rule named 'tagged' exists"), std::string::npos) << out;
}

// Every change a command makes is audited like the API's, with the operating-system user as the actor.
TEST_F(CliRule, CommandChangesAreAuditedAsTheCliUser) {
    std::string out;
    ASSERT_EQ(createRule("audited", {"--json", kConfig, "--scope", "site:plant"}, out), 0) << out;
    std::vector<std::string> argv = {pulsedBinary(), "--config", config_, "--create-device",
                                     tenant_ + "/pump-1"};
    ASSERT_EQ(run(argv, dbEnv(), out), 0) << out;
    pulse::storage::PgConnection owner(ownerUri());
    auto rows = owner.query(
        "SELECT a.action, a.actor, a.actor_role, a.address, a.target, a.detail::text FROM pulse.audit_log a "
        "JOIN pulse.tenants t ON t.id = a.tenant_id WHERE t.slug = $1 ORDER BY a.id",
        {tenant_});
    ASSERT_EQ(rows.rows.size(), 2u);
    std::string user = "cli:" + std::string(getpwuid(geteuid())->pw_name);
    EXPECT_EQ(*rows.rows[0][0], "rule.create");
    EXPECT_EQ(*rows.rows[0][1], user);
    EXPECT_EQ(*rows.rows[0][2], "cli");
    EXPECT_EQ(*rows.rows[0][3], "local");
    EXPECT_EQ(*rows.rows[0][4], stored("audited", "r.id"));
    EXPECT_EQ(*rows.rows[0][5], "{\"type\": \"test_threshold\"}");
    EXPECT_EQ(*rows.rows[1][0], "device.create");
    EXPECT_EQ(*rows.rows[1][1], user);
    // A refused change leaves no row of success behind.
    EXPECT_EQ(createRule("refused", {"--json", kConfig, "--scope", "site:nowhere"}, out), 78) << out;
    EXPECT_EQ(owner
                  .query("SELECT count(*) FROM pulse.audit_log a JOIN pulse.tenants t ON t.id = a.tenant_id "
                         "WHERE t.slug = $1",
                         {tenant_})
                  .rows[0][0]
                  .value_or(""),
              "2");
}
