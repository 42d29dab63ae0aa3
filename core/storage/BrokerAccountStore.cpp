#include "storage/BrokerAccountStore.h"

#include "storage/ResultRow.h"
#include "storage/SessionQuery.h"

namespace pulse::storage {
namespace {

// Every tenant's accounts at once: the password file is written whole.
const char* kSelectLive = "SELECT username, mqtt_hash FROM pulse.broker_accounts()";

BrokerAccountRow accountOf(const ResultRow& r) {
    return {r.text("username"), r.text("mqtt_hash")};
}

}  // namespace

std::vector<BrokerAccountRow> BrokerAccountStore::live() {
    return rowsOf(queryWithoutTenant(db_, kSelectLive), accountOf);
}

}  // namespace pulse::storage
