#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pulse::storage {

class PgPool;

struct SiteRow {
    std::string id, name, timeZone;
    long long devices = 0;  // not decommissioned
    std::string createdAt;  // RFC 3339 UTC
};

// A site as a device import names it: by name or by id.
struct SiteName {
    std::string id, name;
};

// What deleting a site found.
struct SiteRemoval {
    bool found = false;
    long long references = 0;  // devices, rules (deleted ones too) and routing rules naming it: not deleted
};

// A tenant's sites (pulse.sites), each in a transaction scoped to the tenant. Time zones are checked
// against the database's zone list, the one reports use.
class SiteStore {
  public:
    explicit SiteStore(PgPool& pool) : pool_(pool) {}

    std::vector<SiteRow> list(const std::string& tenantId);  // by name, at most 2000
    std::optional<SiteRow> find(const std::string& tenantId, const std::string& id);
    std::vector<SiteName> names(const std::string& tenantId);

    // Both throw std::invalid_argument for a time zone PostgreSQL does not know, services::Conflict for a
    // name in use. create returns the new site's id (time zone UTC when none is given); update returns
    // false when there is no such site, and leaves what is not given as it is.
    std::string create(const std::string& tenantId, const std::string& name,
                       const std::optional<std::string>& timeZone);
    bool update(const std::string& tenantId, const std::string& id, const std::optional<std::string>& name,
                const std::optional<std::string>& timeZone);
    // Deletes the site unless something names it.
    SiteRemoval remove(const std::string& tenantId, const std::string& id);

  private:
    PgPool& pool_;
};

}  // namespace pulse::storage
