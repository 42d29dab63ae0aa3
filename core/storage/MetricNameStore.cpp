#include "storage/MetricNameStore.h"

#include "storage/ResultRow.h"
#include "storage/SessionQuery.h"

namespace pulse::storage {
namespace {

// Every name the tenant's readings have used: the limit counts them all.
const char* kSelectNames = "SELECT name FROM pulse.metrics WHERE tenant_id = $1::uuid";

}  // namespace

std::vector<std::string> MetricNameStore::names(const std::string& tenantId) {
    return rowsOf(queryAsTenant(db_, tenantId, kSelectNames, tenantId),
                  [](const ResultRow& r) { return r.text("name"); });
}

}  // namespace pulse::storage
