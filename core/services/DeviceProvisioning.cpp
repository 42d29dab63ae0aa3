#include "services/DeviceProvisioning.h"

#include "services/DeviceImport.h"
#include "services/ServiceErrors.h"
#include "services/Sodium.h"
#include "services/Tokens.h"
#include "storage/Database.h"
#include "storage/DeviceStore.h"
#include "storage/PgPool.h"
#include "storage/SiteStore.h"
#include "storage/TenantStore.h"

#include <Poco/Base64Encoder.h>
#include <Poco/String.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace pulse::services {
namespace {

std::string base64(const unsigned char* data, size_t len, bool url) {
    std::ostringstream os;
    Poco::Base64Encoder enc(os, url ? Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING : 0);
    enc.rdbuf()->setLineLength(0);
    enc.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(len));
    enc.close();
    return os.str();
}

// A fresh token and what is stored of it.
std::pair<std::string, storage::DeviceCredential> newCredential() {
    std::string token = newDeviceToken();
    return {token, {tokenDigest(token), token.substr(0, 10), mosquittoHash(token)}};
}

}  // namespace

std::string newDeviceToken() {
    return randomToken("pt_");
}

std::string mosquittoHash(const std::string& secret) {
    ensureSodium();
    unsigned char salt[12], hash[64];
    randombytes_buf(salt, sizeof salt);
    if (PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()), salt, sizeof salt, 101,
                          EVP_sha512(), sizeof hash, hash) != 1)
        throw std::runtime_error("PBKDF2 failed");
    return "$7$101$" + base64(salt, sizeof salt, false) + "$" + base64(hash, sizeof hash, false);
}

std::vector<ProvisionedDevice> provisionDevices(storage::PgPool& pool, const std::string& tenantId,
                                                const std::string& tenantSlug,
                                                const std::vector<DeviceSpec>& specs) {
    std::set<std::string> names;
    for (const auto& spec : specs) {
        std::string field, problem = deviceSpecProblem(spec, field);
        if (!problem.empty()) throw std::invalid_argument(problem);
        if (!names.insert(spec.name).second)
            throw Conflict("the device name '" + spec.name + "' is given twice");
    }
    std::vector<ProvisionedDevice> out;
    std::vector<storage::NewDevice> rows;
    out.reserve(specs.size());
    rows.reserve(specs.size());
    for (const auto& spec : specs) {
        auto [token, credential] = newCredential();
        out.push_back({tenantSlug, spec.name, 0, token, tenantSlug + "/" + spec.name});
        rows.push_back({spec.name, spec.tags, spec.siteId, std::move(credential)});
    }
    auto ids = storage::DeviceStore(pool).insert(tenantId, tenantSlug, rows);
    for (size_t i = 0; i < out.size(); ++i) out[i].deviceId = ids.at(i);
    return out;
}

std::vector<ProvisionedDevice> importDevices(storage::PgPool& pool, const std::string& tenantId,
                                             const std::string& tenantSlug, ImportPlan& plan) {
    // The tenant's side in two queries, however long the file: names taken, and the sites.
    std::vector<std::string> names;
    for (const auto& row : plan.rows) names.push_back(row.device.name);
    auto taken = storage::DeviceStore(pool).namesInUse(tenantId, names);
    std::map<std::string, std::string> siteByName;
    std::set<std::string> siteIds;
    for (const auto& site : storage::SiteStore(pool).names(tenantId)) {
        siteByName[site.name] = site.id;
        siteIds.insert(site.id);
    }
    for (auto& row : plan.rows) {
        if (taken.count(row.device.name))
            plan.problems.push_back({row.line, "name", "a device named '" + row.device.name + "' exists"});
        if (row.site.empty()) continue;
        auto byName = siteByName.find(row.site);
        std::string asId = Poco::toLower(row.site);
        if (byName != siteByName.end())
            row.device.siteId = byName->second;
        else if (siteIds.count(asId))
            row.device.siteId = asId;
        else
            plan.problems.push_back({row.line, "site", "no site named '" + row.site + "'"});
    }
    if (!plan.problems.empty()) return {};
    std::vector<DeviceSpec> specs;
    for (const auto& row : plan.rows) specs.push_back(row.device);
    return provisionDevices(pool, tenantId, tenantSlug, specs);
}

std::optional<ProvisionedDevice> rotateDeviceToken(storage::PgPool& pool, const std::string& tenantId,
                                                   const std::string& tenantSlug, int64_t deviceId) {
    auto [token, credential] = newCredential();
    auto name = storage::DeviceStore(pool).replaceCredentials(tenantId, deviceId, credential);
    if (!name) return std::nullopt;
    return ProvisionedDevice{tenantSlug, *name, deviceId, token, tenantSlug + "/" + *name};
}

ProvisionedDevice createDevice(storage::Database& db, const std::string& tenantSlug, const std::string& name,
                               const std::vector<std::string>& tags) {
    storage::PgPool pool(db.conninfo(), 1);
    auto tenantId = storage::TenantStore(pool).idBySlug(tenantSlug);
    if (!tenantId) throw NotFound("no tenant '" + tenantSlug + "'");
    return provisionDevices(pool, *tenantId, tenantSlug, {DeviceSpec{name, tags, std::nullopt}}).front();
}

}  // namespace pulse::services
