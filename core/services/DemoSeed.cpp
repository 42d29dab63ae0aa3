#include "services/DemoSeed.h"

#include "services/PasswordHasher.h"
#include "storage/Database.h"

#include <Poco/Data/Session.h>

using namespace Poco::Data::Keywords;

namespace pulse::services {

DemoLogin seedDemo(storage::Database& db, const std::string& email, const std::string& password) {
    std::string hash = hashPassword(password);
    std::string slug = "demo", name = "Demo Fleet", role = "tenant-admin", display = "Demo Admin";
    std::string mail = email;
    db.withSession([&](Poco::Data::Session& s) {
        s.begin();
        s << "INSERT INTO pulse.tenants (slug, name) VALUES ($1, $2) ON CONFLICT (slug) DO NOTHING",
            use(slug), use(name), now;
        s << "INSERT INTO pulse.users (tenant_id, email, display_name, role, password_hash) "
             "SELECT id, $1, $2, $3, $4 FROM pulse.tenants WHERE slug = $5 "
             "ON CONFLICT (email) DO UPDATE SET password_hash = EXCLUDED.password_hash, disabled = false",
            use(mail), use(display), use(role), use(hash), use(slug), now;
        s.commit();
    });
    return {slug, email};
}

}  // namespace pulse::services
