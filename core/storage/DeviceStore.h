#pragma once

#include "storage/Page.h"

#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace pulse::storage {

class PgPool;

struct DeviceRow {
    long long id = 0;
    std::string name;
    std::string status;  // ONLINE, STALE, OFFLINE
    std::optional<std::string> siteId;
    std::vector<std::string> tags;
    std::optional<std::string> lastSeenAt;  // RFC 3339 UTC, like every time here
    std::string createdAt;
    std::optional<std::string> decommissionedAt;
    std::optional<int> staleAfterS, offlineAfterS;  // nullopt: the tenant's default
    std::string tenantId;
    std::optional<long long> parentId;  // the device it depends on (its gateway), sql/016
};

// Which devices a list shows, in id order; an empty member does not filter.
// The orders the fleet list comes in: each by its key, then by id.
enum class DeviceOrder { Id, Name, NameDescending, LastSeen, LastSeenDescending };

struct DeviceFilter {
    std::string status, tag, siteId;
    std::string namePrefix;            // taken literally (no LIKE patterns)
    std::optional<long long> afterId;  // the cursor: the last row's id, the rows after it in the order
    int limit = 50;
    DeviceOrder order = DeviceOrder::Id;
    std::optional<long long> parentId;  // only the children of this device
};

// A device's credential as stored: the token itself never is.
struct DeviceCredential {
    std::string tokenSha256;  // hex
    std::string tokenPrefix;  // shown in lists, to tell tokens apart
    std::string mqttHash;     // Mosquitto's password-file format
};

struct NewDevice {
    std::string name;
    std::vector<std::string> tags;
    std::optional<std::string> siteId;
    DeviceCredential credential;
};

// What a change sets: nullopt leaves the member as it is; an inner nullopt clears it (no site, the
// tenant's default threshold).
struct DeviceChange {
    std::optional<std::vector<std::string>> tags;
    std::optional<std::optional<std::string>> siteId;
    std::optional<std::optional<int>> staleAfterS, offlineAfterS;
    std::optional<std::optional<long long>> parentId;
};

// A parent the device cannot have: not a device of the tenant, the device itself or one below it, or a
// chain of more than 10 parents (the database's trigger decides, sql/016).
class InvalidParent : public std::invalid_argument {
  public:
    using std::invalid_argument::invalid_argument;
};

// A tenant's devices and their credentials (pulse.devices, pulse.device_credentials), each call in one
// transaction scoped to the tenant(s). Names and tags come checked by services::deviceSpecProblem.
class DeviceStore {
  public:
    explicit DeviceStore(PgPool& pool) : pool_(pool) {}

    Page<DeviceRow> list(const std::vector<std::string>& tenantIds, const DeviceFilter& filter);
    std::optional<DeviceRow> find(const std::string& tenantId, long long id);
    // Which of the names the tenant's devices have.
    std::set<std::string> namesInUse(const std::string& tenantId, const std::vector<std::string>& names);

    // Inserts the devices, each with its credential, and returns their ids in order. Throws
    // services::NotFound for a site that is not the tenant's, services::Conflict for a name in use
    // (naming the tenant by tenantSlug), services::LimitExceeded when the subscription's device limit
    // would be passed: one failure and none is inserted.
    std::vector<long long> insert(const std::string& tenantId, const std::string& tenantSlug,
                                  const std::vector<NewDevice>& devices);
    // Changes the device; false when it is not the tenant's. Throws services::NotFound for a site that is
    // not the tenant's, std::invalid_argument when the thresholds in effect after the change (the device's
    // or the tenant's defaults) would not have it go STALE before OFFLINE (nothing is changed then).
    bool update(const std::string& tenantId, long long id, const DeviceChange& change);
    // Revokes the device's live credentials and stores `credential` as its only one; the device's name, or
    // nullopt when it is not the tenant's or is decommissioned.
    std::optional<std::string> replaceCredentials(const std::string& tenantId, long long id,
                                                  const DeviceCredential& credential);
    // Revokes every live credential of the device: how many, or nullopt when it is not the tenant's.
    std::optional<int> revokeCredentials(const std::string& tenantId, long long id);
    // Marks the device decommissioned (OFFLINE) and revokes its credentials. False when it is not the
    // tenant's or was decommissioned already.
    bool decommission(const std::string& tenantId, long long id);

  private:
    PgPool& pool_;
};

}  // namespace pulse::storage
