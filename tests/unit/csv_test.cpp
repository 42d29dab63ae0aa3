// The CSV reader and writer (formats/Csv) and the device import plan built on them (services/DeviceImport).
#include "formats/Csv.h"
#include "services/DeviceImport.h"

#include <gtest/gtest.h>

using pulse::formats::CsvError;
using pulse::formats::csvField;
using pulse::formats::parseCsv;

TEST(Csv, QuotesLineEndsAndByteOrderMark) {
    auto r = parseCsv("\xEF\xBB\xBFname,tags\r\n\"a,b\",\"say \"\"hi\"\"\"\n\n\"multi\nline\",x\rlast,", 10);
    ASSERT_EQ(r.size(), 4u);
    EXPECT_EQ(r[0].fields, (std::vector<std::string>{"name", "tags"}));
    EXPECT_EQ(r[1].fields, (std::vector<std::string>{"a,b", "say \"hi\""}));
    EXPECT_EQ(r[2].fields, (std::vector<std::string>{"multi\nline", "x"}));
    EXPECT_EQ(r[2].line, 4u);  // the blank line 3 is skipped, not forgotten
    EXPECT_EQ(r[3].line, 6u);  // the quoted line break and the lone CR each end a line
    EXPECT_EQ(r[3].fields, (std::vector<std::string>{"last", ""}));
}

TEST(Csv, MalformedInputNamesItsLine) {
    auto lineOf = [](const std::string& text, size_t maxRecords = 10, size_t maxFields = 4) {
        try {
            parseCsv(text, maxRecords, maxFields);
        } catch (const CsvError& e) {
            return e.line;
        }
        return size_t(0);
    };
    EXPECT_EQ(lineOf("a\n\"open"), 2u);
    EXPECT_EQ(lineOf("a\nb\"c\n"), 2u);
    EXPECT_EQ(lineOf("a\n\"x\"y\n"), 2u);
    EXPECT_EQ(lineOf(std::string("a\nb\0c\n", 6)), 2u);
    EXPECT_EQ(lineOf("a\nb\nc\n", 2), 3u);
    EXPECT_EQ(lineOf("a,b,c,d,", 10, 4), 1u);  // a trailing comma is a fifth field
    EXPECT_EQ(lineOf("a,b,c,d", 10, 4), 0u);
}

TEST(Csv, FieldsAreQuotedAndFormulasDefused) {
    EXPECT_EQ(csvField("plain"), "plain");
    EXPECT_EQ(csvField("a,b"), "\"a,b\"");
    EXPECT_EQ(csvField("say \"hi\""), "\"say \"\"hi\"\"\"");
    EXPECT_EQ(csvField("=1+1"), "'=1+1");
    EXPECT_EQ(csvField("@SUM(A1)"), "'@SUM(A1)");
    EXPECT_EQ(csvField("-2,5"), "\"'-2,5\"");
    EXPECT_EQ(csvField(""), "");
}

TEST(DeviceImport, EveryProblemIsReportedWithItsLine) {
    auto plan = pulse::services::planDeviceImport(
        "Name, Tags ,site\nok-1,a;b ; c,Plant\nbad name,,\nok-1,,\nok-2,\"x,y\",\nok-3,,,\n", 100);
    ASSERT_EQ(plan.rows.size(), 1u);
    EXPECT_EQ(plan.rows[0].device.tags, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(plan.rows[0].site, "Plant");
    ASSERT_EQ(plan.problems.size(), 4u);
    EXPECT_EQ(plan.problems[0].line, 3u);
    EXPECT_EQ(plan.problems[0].field, "name");
    EXPECT_EQ(plan.problems[1].line, 4u);  // the name again
    EXPECT_EQ(plan.problems[2].field, "tags");
    EXPECT_EQ(plan.problems[3].line, 6u);  // a field too many
    EXPECT_EQ(pulse::services::planDeviceImport("tags\nx\n", 10).problems.at(0).field, "name");
    EXPECT_EQ(pulse::services::planDeviceImport("", 10).problems.size(), 1u);
    auto tooMany = pulse::services::planDeviceImport("name\na\nb\nc\n", 2);
    ASSERT_EQ(tooMany.problems.size(), 1u);
    EXPECT_EQ(tooMany.problems[0].message, "more than 2 devices: split the file");
}
