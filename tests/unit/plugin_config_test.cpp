#include "plugins/PluginConfig.h"

#include <gtest/gtest.h>

#include <fstream>

using namespace pulse::plugins;

TEST(PluginConfig, ParsesInstancesInNameOrder) {
    auto spec = parsePluginSpecText(
        "plugin.library = x.so\n"
        "instance.zeta.component = sender/log\n"
        "instance.alpha.component = sender/log\n"
        "instance.alpha.config = {\"level\": \"warn\"}\n"
        "instance.alpha.enabled = no\n",
        "/etc/pulse/plugins.d/x.properties");
    EXPECT_EQ(spec.library, "x.so");
    EXPECT_TRUE(spec.enabled);
    ASSERT_EQ(spec.instances.size(), 2u);
    EXPECT_EQ(spec.instances[0].name, "alpha");
    EXPECT_EQ(spec.instances[0].configJson, "{\"level\": \"warn\"}");
    EXPECT_FALSE(spec.instances[0].enabled);
    EXPECT_EQ(spec.instances[1].configJson, "{}");
}

TEST(PluginConfig, ConfigFileIsRelativeToTheSpec) {
    std::string dir = ::testing::TempDir();
    std::ofstream(dir + "/hook.json") << R"({"url": "https://x"})";
    auto spec = parsePluginSpecText(
        "plugin.library = x.so\ninstance.a.component = sender/webhook\ninstance.a.config_file = hook.json\n",
        dir + "/x.properties");
    EXPECT_EQ(spec.instances.at(0).configJson, R"({"url": "https://x"})");
}

TEST(PluginConfig, ErrorsNameTheFileAndKey) {
    auto expectError = [](const std::string& text, const std::string& fragment) {
        try {
            parsePluginSpecText(text, "f.properties");
            ADD_FAILURE() << "accepted: " << text;
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
        }
    };
    expectError("instance.a.component = sender/log\n", "f.properties: plugin.library: is required");
    expectError("plugin.library = x.so\nplugin.enable = true\n", "plugin.enable: unknown key");
    expectError("plugin.library = x.so\nplugin.enabled = sometimes\n", "is not a boolean");
    expectError("plugin.library = x.so\ninstance.a.config = {}\n", "instance.a.component: is required");
    expectError("plugin.library = x.so\ninstance.A.component = s/t\n", "instance names use");
    expectError("plugin.library = x.so\ninstance.a.component = s/t\ninstance.a.colour = red\n",
                "instance.a.colour: unknown key");
    expectError(
        "plugin.library = x.so\ninstance.a.component = s/t\ninstance.a.config = {}\ninstance.a.config_file = "
        "y\n",
        "not both");
    expectError("library = x.so\n", "library: unknown key");
}
