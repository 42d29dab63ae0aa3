#include "services/PasswordHasher.h"

#include <gtest/gtest.h>

TEST(Password, Argon2idWithAtLeastTheRequiredCost) {
    auto hash = pulse::services::hashPassword("correct horse battery staple");
    EXPECT_EQ(hash.rfind("$argon2id$v=19$m=65536,t=2,p=1$", 0), 0u) << hash;
    EXPECT_TRUE(pulse::services::verifyPassword(hash, "correct horse battery staple"));
    EXPECT_FALSE(pulse::services::verifyPassword(hash, "correct horse battery stapler"));
    EXPECT_NE(hash, pulse::services::hashPassword("correct horse battery staple"));  // salted
}
