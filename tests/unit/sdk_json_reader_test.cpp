// The SDK's JSON reader (pulse/json.hpp) and the notice a sender reads with it (pulse/notice.hpp): strict
// RFC 8259, JSON Pointer reads, typed fallbacks, and the host's own notice shape read back whole.
#include <pulse/json.hpp>
#include <pulse/notice.hpp>

#include <gtest/gtest.h>

using pulse::json::parse;
using pulse::json::ParseError;

TEST(SdkJsonReader, ReadsDocumentsByJsonPointer) {
    auto v =
        parse(R"( {"a": {"b/c": [1, 2.5, "x", true, null], "m~n": -3e2, "s": "\u00e9\ud83d\ude00\n"}} )");
    EXPECT_EQ(v.number("/a/b~1c/1"), 2.5);
    EXPECT_EQ(v.string("/a/b~1c/2"), "x");
    EXPECT_TRUE(v.boolean("/a/b~1c/3"));
    EXPECT_TRUE(v.find("/a/b~1c/4")->is_null());
    EXPECT_EQ(v.integer("/a/m~0n"), -300);
    EXPECT_EQ(v.string("/a/s"), "\xC3\xA9\xF0\x9F\x98\x80\n");
    EXPECT_EQ(v.find(""), &v);
    // Missing, out of range, the wrong type, malformed pointers: the fallback.
    EXPECT_EQ(v.string("/a/nope", "fallback"), "fallback");
    EXPECT_EQ(v.string("/a/b~1c/0", "not a string"), "not a string");
    EXPECT_EQ(v.find("/a/b~1c/5"), nullptr);
    EXPECT_EQ(v.find("/a/b~1c/01"), nullptr);
    EXPECT_EQ(v.find("/a/b~1c/-"), nullptr);
    EXPECT_EQ(v.find("a"), nullptr);
    EXPECT_EQ(v.find("/a/m~2n"), nullptr);
    EXPECT_EQ(v.integer("/a/b~1c/1", 7), 7);  // 2.5 is not whole
    // A duplicate name: the last wins, as in most readers.
    EXPECT_EQ(parse(R"({"k":1,"k":2})").integer("/k"), 2);
    // A magnitude too small for a double is JSON and reads as zero; one too large is refused (below).
    EXPECT_EQ(parse("1e-400").as_number(), 0.0);
}

TEST(SdkJsonReader, RefusesWhatIsNotJson) {
    for (const char* bad : {"",
                            " ",
                            "{",
                            "[1,]",
                            "{\"a\":1,}",
                            "01",
                            "1.",
                            ".5",
                            "-",
                            "1e",
                            "+1",
                            "NaN",
                            "'x'",
                            "\"\\x\"",
                            "\"\\ud800\"",
                            "\"\\udc00\"",
                            "\"a\nb\"",
                            "tru",
                            "nul",
                            "{} {}",
                            "{\"a\" 1}",
                            "[1 2]",
                            "\"\xC0\xAF\"",
                            "\"\xED\xA0\x80\"",
                            "\"\xF4\x90\x80\x80\"",
                            "1e999"}) {
        SCOPED_TRACE(bad);
        EXPECT_THROW(parse(bad), ParseError);
    }
    std::string deep(200, '[');
    EXPECT_THROW(parse(deep), ParseError);  // nesting is bounded: no stack exhaustion
    try {
        parse("{\"a\": tru}");
    } catch (const ParseError& e) {
        EXPECT_EQ(e.offset(), 6u);
    }
}

TEST(SdkNotice, ReadsTheHostsAlertNotice) {
    auto n = pulse::AlertNotice::parse(R"({"type":"alert.acknowledged",
      "event":{"id":812,"kind":"ACKNOWLEDGED","at":"2026-11-24T10:05:00+00:00","actor":"alice@example.com"},
      "tenant":{"id":"t-1","slug":"acme","name":"Acme"},"links":{"alert":"https://p.example/alerts?status=&open=97"},
      "alert":{"id":97,"status":"ACKNOWLEDGED","condition":"FIRING","severity":"CRITICAL","summary":"t 91 > 80",
        "value":91,"flapping":false,"triggered_at":"2026-11-24T10:00:00+00:00","triggered_at_ms":1795514400000,
        "rule":{"id":"r-1","name":"too hot","type":"threshold"},
        "device":{"id":42,"name":"sensor-1","tags":["boiler","north"]},
        "site":{"id":"s-1","name":"Plant","timezone":"Europe/Berlin"}}})");
    EXPECT_EQ(n.kind, pulse::NoticeKind::Acknowledged);
    EXPECT_FALSE(n.test);
    EXPECT_EQ(n.actor, "alice@example.com");
    EXPECT_EQ(n.alert_id, 97);
    EXPECT_TRUE(n.has_value);
    EXPECT_EQ(n.value, 91);
    EXPECT_EQ(n.device_tags, (std::vector<std::string>{"boiler", "north"}));
    EXPECT_EQ(n.site_timezone, "Europe/Berlin");
    EXPECT_EQ(n.triggered_at_ms, 1795514400000);
    EXPECT_EQ(n.link, "https://p.example/alerts?status=&open=97");
    EXPECT_STREQ(n.verb(), "acknowledged");
    // A test notice reads as an opening; a notice without a site has none.
    auto t = pulse::AlertNotice::parse(R"({"type":"alert.test","test":true,"alert":{"site":null}})");
    EXPECT_EQ(t.kind, pulse::NoticeKind::Opened);
    EXPECT_TRUE(t.test);
    EXPECT_EQ(t.site_name, "");
}

TEST(SdkNotice, TruncatesAtCharacterBoundaries) {
    using pulse::notice::truncate_chars;
    using pulse::notice::truncate_utf8;
    EXPECT_EQ(truncate_chars("short", 10), "short");
    EXPECT_EQ(truncate_chars("abcdef", 4), "abc\xE2\x80\xA6");
    EXPECT_EQ(truncate_chars("\xC3\xA9\xC3\xA9\xC3\xA9", 2), "\xC3\xA9\xE2\x80\xA6");
    EXPECT_EQ(truncate_utf8("\xC3\xA9\xC3\xA9\xC3\xA9", 5), "\xC3\xA9\xE2\x80\xA6");
    EXPECT_EQ(truncate_utf8("\xC3\xA9\xC3\xA9\xC3\xA9", 4), "\xE2\x80\xA6");  // never half an é
    EXPECT_EQ(truncate_utf8("abcdef", 6), "abcdef");
    EXPECT_EQ(pulse::notice::severity_rank("HIGH"), 4);
    EXPECT_STREQ(pulse::notice::severity_colour("CRITICAL"), "#D32F2F");
}
