#include "services/DemoSeed.h"

#include "services/PasswordHasher.h"
#include "storage/DemoSeedStore.h"

namespace pulse::services {

DemoLogin seedDemo(storage::Database& db, const std::string& email, const std::string& password) {
    storage::DemoFixture fixture{"demo",       "Demo Fleet",   email,
                                 "Demo Admin", "tenant-admin", hashPassword(password)};
    storage::DemoSeedStore(db).seed(fixture);
    return {fixture.tenantSlug, email};
}

}  // namespace pulse::services
