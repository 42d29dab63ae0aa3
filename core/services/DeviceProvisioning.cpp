#include "services/DeviceProvisioning.h"

#include "services/ServiceErrors.h"
#include "services/Tokens.h"
#include "storage/Database.h"
#include "storage/PgConnection.h"
#include "storage/TenantScope.h"

#include <Poco/Base64Encoder.h>
#include <Poco/String.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <set>
#include <sstream>
#include <stdexcept>

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

void ensureSodium() {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

// Issues a credential for the device: the token's digest and its Mosquitto hash are stored, the token
// returned.
std::string issueCredential(storage::PgConnection& conn, const std::string& tenantId, int64_t deviceId) {
    std::string token = newDeviceToken();
    conn.query(
        "INSERT INTO pulse.device_credentials (tenant_id, device_id, token_sha256, token_prefix, mqtt_hash) "
        "VALUES ($1::uuid, $2::bigint, decode($3, 'hex'), $4, $5)",
        {tenantId, std::to_string(deviceId), tokenDigest(token), token.substr(0, 10), mosquittoHash(token)});
    return token;
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

std::vector<ProvisionedDevice> insertDevices(storage::PgConnection& conn, const std::string& tenantId,
                                             const std::string& tenantSlug,
                                             const std::vector<DeviceSpec>& specs) {
    std::set<std::string> names;
    for (const auto& spec : specs) {
        std::string field, problem = deviceSpecProblem(spec, field);
        if (!problem.empty()) throw std::invalid_argument(problem);
        if (!names.insert(spec.name).second)
            throw Conflict("the device name '" + spec.name + "' is given twice");
    }
    // The sites named, all checked in one query (an import names many devices, few sites).
    std::set<std::string> sites;
    for (const auto& spec : specs)
        if (spec.siteId) sites.insert(Poco::toLower(*spec.siteId));
    if (!sites.empty()) {
        std::string list = "{";
        for (const auto& id : sites) list += (list.size() > 1 ? "," : "") + id;  // UUIDs (deviceSpecProblem)
        for (const auto& r :
             conn.query("SELECT id::text FROM pulse.sites WHERE id = ANY ($1::uuid[])", {list + "}"}).rows)
            sites.erase(*r[0]);
        if (!sites.empty()) throw NotFound("no such site " + *sites.begin());
    }
    std::vector<ProvisionedDevice> out;
    out.reserve(specs.size());
    for (const auto& spec : specs) {
        storage::PgRows rows;
        try {
            // ON CONFLICT: a name in use is a Conflict, not an aborted transaction to untangle.
            rows = conn.query(
                "INSERT INTO pulse.devices (tenant_id, name, tags, site_id) VALUES ($1::uuid, $2, "
                "$3::text[], "
                "$4::uuid) ON CONFLICT (tenant_id, name) DO NOTHING RETURNING id::text",
                {tenantId, spec.name, textArrayLiteral(spec.tags), spec.siteId});
        } catch (const storage::DatabaseError& e) {
            if (e.sqlState() == "P0001" &&
                std::string(e.what()).find("subscription allows") != std::string::npos)
                throw LimitExceeded(e.what());
            throw;
        }
        if (rows.rows.empty())
            throw Conflict("tenant '" + tenantSlug + "' already has a device named '" + spec.name + "'");
        ProvisionedDevice d;
        d.tenantSlug = tenantSlug;
        d.name = spec.name;
        d.deviceId = std::stoll(*rows.rows[0][0]);
        d.mqttUsername = tenantSlug + "/" + spec.name;
        d.token = issueCredential(conn, tenantId, d.deviceId);
        out.push_back(std::move(d));
    }
    return out;
}

namespace {

int revokeLiveCredentials(storage::PgConnection& conn, int64_t deviceId) {
    return static_cast<int>(
        conn.query("UPDATE pulse.device_credentials SET revoked_at = now() WHERE device_id = "
                   "$1::bigint AND revoked_at IS NULL RETURNING id",
                   {std::to_string(deviceId)})
            .rows.size());
}

}  // namespace

std::optional<ProvisionedDevice> rotateDeviceToken(storage::PgConnection& conn, const std::string& tenantId,
                                                   const std::string& tenantSlug, int64_t deviceId) {
    // FOR UPDATE: two rotations at once leave one live token, not two.
    auto found = conn.query(
        "SELECT name FROM pulse.devices WHERE id = $1::bigint AND decommissioned_at IS NULL FOR UPDATE",
        {std::to_string(deviceId)});
    if (found.rows.empty()) return std::nullopt;
    revokeLiveCredentials(conn, deviceId);
    const std::string& name = *found.rows[0][0];
    return ProvisionedDevice{tenantSlug, name, deviceId, issueCredential(conn, tenantId, deviceId),
                             tenantSlug + "/" + name};
}

std::optional<int> revokeDeviceCredentials(storage::PgConnection& conn, int64_t deviceId) {
    auto found = conn.query("SELECT 1 FROM pulse.devices WHERE id = $1::bigint", {std::to_string(deviceId)});
    if (found.rows.empty()) return std::nullopt;
    return revokeLiveCredentials(conn, deviceId);
}

bool decommissionDevice(storage::PgConnection& conn, int64_t deviceId) {
    auto rows = conn.query(
        "UPDATE pulse.devices SET decommissioned_at = now(), status = 'OFFLINE' WHERE id = $1::bigint AND "
        "decommissioned_at IS NULL RETURNING id",
        {std::to_string(deviceId)});
    if (rows.rows.empty()) return false;
    revokeLiveCredentials(conn, deviceId);
    return true;
}

ProvisionedDevice createDevice(storage::Database& db, const std::string& tenantSlug, const std::string& name,
                               const std::vector<std::string>& tags) {
    storage::PgConnection conn(db.conninfo());
    // Tenants are readable without a tenant scope (they carry no tenant_id).
    auto tenant = conn.query("SELECT id::text FROM pulse.tenants WHERE slug = $1", {tenantSlug});
    if (tenant.rows.empty()) throw NotFound("no tenant '" + tenantSlug + "'");
    storage::TenantTransaction tx(conn, *tenant.rows[0][0]);
    auto created =
        insertDevices(conn, *tenant.rows[0][0], tenantSlug, {DeviceSpec{name, tags, std::nullopt}});
    tx.commit();
    return created.front();
}

}  // namespace pulse::services
