// readBodyUpTo: a body read to its limit and no further, with short and broken bodies told apart.
#include "http/RequestBody.h"

#include <gtest/gtest.h>

#include <sstream>

using pulse::http::BodyRead;
using pulse::http::readBodyUpTo;

TEST(RequestBody, ReadsWhatWasAnnouncedOrEverythingUpToTheLimit) {
    std::string body;
    std::istringstream announced("0123456789");
    EXPECT_EQ(readBodyUpTo(announced, 100, 10, body), BodyRead::Complete);
    EXPECT_EQ(body, "0123456789");
    std::string big(200'000, 'x');  // chunked: no length announced, read in growing steps
    std::istringstream chunked(big);
    EXPECT_EQ(readBodyUpTo(chunked, 1'000'000, 0, body), BodyRead::Complete);
    EXPECT_EQ(body, big);
    std::istringstream empty("");
    EXPECT_EQ(readBodyUpTo(empty, 100, 0, body), BodyRead::Complete);
    EXPECT_TRUE(body.empty());
}

TEST(RequestBody, StopsOneBytePastTheLimit) {
    std::string body;
    std::istringstream atLimit(std::string(64, 'a'));
    EXPECT_EQ(readBodyUpTo(atLimit, 64, 0, body), BodyRead::Complete);
    EXPECT_EQ(body.size(), 64u);
    std::istringstream over(std::string(10'000, 'a'));
    EXPECT_EQ(readBodyUpTo(over, 64, 0, body), BodyRead::TooLarge);
    EXPECT_EQ(body.size(), 65u);
    EXPECT_EQ(over.tellg(), 65);  // the rest is left unread
}

TEST(RequestBody, ABodyShorterThanAnnouncedOrABrokenStreamIsIncomplete) {
    std::string body;
    std::istringstream cut("01234");
    EXPECT_EQ(readBodyUpTo(cut, 100, 10, body), BodyRead::Incomplete);
    std::istringstream broken("0123456789");
    broken.setstate(std::ios::badbit);
    EXPECT_EQ(readBodyUpTo(broken, 100, 10, body), BodyRead::Incomplete);
}
