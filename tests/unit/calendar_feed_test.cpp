// The iCalendar writer (RFC 5545: escaping, folding, CRLF, UTC times) and the signer of the feed URLs
// (what it signed verifies; an altered token, another key's, or garbage does not).
#include "formats/ICalendar.h"
#include "services/LinkSigner.h"
#include "services/SecretBox.h"

#include <gtest/gtest.h>

using namespace pulse;

TEST(ICalendar, EventsAreEscapedFoldedAndInUtc) {
    std::string longName(100, 'x');
    longName += "\xc3\xa9";  // a two-byte character near where a line is cut
    auto text = formats::writeCalendar(
        "Ops; \"A\", B\\C",
        {{"s1-0-u@pulse", 1806195600000, 1806282000000, "On call: " + longName, "line\nbreak"}},
        1806195600000);
    EXPECT_EQ(text.rfind("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", 0), 0u);
    EXPECT_NE(text.find("X-WR-CALNAME:Ops\\; \"A\"\\, B\\\\C\r\n"), std::string::npos) << text;
    EXPECT_NE(text.find("DTSTART:20270328T010000Z\r\n"), std::string::npos) << text;
    EXPECT_NE(text.find("DESCRIPTION:line\\nbreak\r\n"), std::string::npos);
    EXPECT_EQ(text.substr(text.size() - 15), "END:VCALENDAR\r\n");
    // Every physical line is at most 75 octets, every line break is CRLF, and unfolding gives the summary
    // back with its UTF-8 character whole.
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find("\r\n", start);
        ASSERT_NE(end, std::string::npos);
        EXPECT_LE(end - start, 75u);
        EXPECT_EQ(text.substr(start, end - start).find('\n'), std::string::npos);
        start = end + 2;
    }
    std::string unfolded;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text.compare(i, 3, "\r\n ") == 0) {
            i += 2;
            continue;
        }
        unfolded += text[i];
    }
    EXPECT_NE(unfolded.find("SUMMARY:On call: " + longName + "\r\n"), std::string::npos);
}

TEST(LinkSigner, VerifiesOnlyWhatItSigned) {
    services::LinkSigner signer(
        services::SecretBox::fromHex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"));
    services::LinkSigner other(
        services::SecretBox::fromHex("ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"));
    std::string token = signer.sign("cal1|schedule|t|s|1");
    EXPECT_EQ(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."),
              std::string::npos);
    EXPECT_EQ(signer.verify(token), "cal1|schedule|t|s|1");
    EXPECT_EQ(other.verify(token), std::nullopt);
    std::string altered = signer.sign("cal1|schedule|t|s|2");
    altered = altered.substr(0, altered.find('.')) + token.substr(token.find('.'));
    EXPECT_EQ(signer.verify(altered), std::nullopt);  // another payload under this payload's MAC
    for (const char* bad : {"", ".", "abc", "abc.def", "====.====", "a.b.c"})
        EXPECT_EQ(signer.verify(bad), std::nullopt);
    EXPECT_FALSE(services::LinkSigner().hasKey());
    EXPECT_EQ(services::LinkSigner().verify(token), std::nullopt);
}
