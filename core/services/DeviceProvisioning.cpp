#include "services/DeviceProvisioning.h"

#include "services/DeviceRegistry.h"
#include "services/ServiceErrors.h"
#include "services/Tokens.h"
#include "storage/Database.h"
#include "storage/TenantScope.h"

#include <Poco/Base64Encoder.h>
#include <Poco/Data/Session.h>
#include <Poco/RegularExpression.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <sstream>
#include <stdexcept>

using namespace Poco::Data::Keywords;

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

ProvisionedDevice createDevice(storage::Database& db, const std::string& tenantSlug, const std::string& name,
                               const std::vector<std::string>& tags) {
    static const Poco::RegularExpression validName("^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$");
    if (!validName.match(name))
        throw std::invalid_argument("device name '" + name +
                                    "' must be 1-128 of A-Z a-z 0-9 _ . - (it is part of MQTT topics)");
    for (const auto& t : tags)
        if (t.empty() || t.size() > 64 || t.find_first_of("\",{}\\") != std::string::npos)
            throw std::invalid_argument("tag '" + t +
                                        "' must be 1-64 characters without quotes, commas or braces");
    ProvisionedDevice out;
    out.tenantSlug = tenantSlug;
    out.name = name;
    out.token = newDeviceToken();
    out.mqttUsername = tenantSlug + "/" + name;
    std::string digest = tokenDigest(out.token), prefix = out.token.substr(0, 10),
                mqtt = mosquittoHash(out.token);
    std::string tagArray = "{";
    for (size_t i = 0; i < tags.size(); ++i) tagArray += (i ? ",\"" : "\"") + tags[i] + "\"";
    tagArray += "}";
    std::string slug = tenantSlug, device = name;
    db.withSession([&](Poco::Data::Session& s) {
        s.begin();
        try {
            std::string tenantId;
            Poco::Data::Statement find(s);
            find << "SELECT id::text FROM pulse.tenants WHERE slug = $1", use(slug), into(tenantId),
                range(0, 1);
            if (find.execute() == 0) throw NotFound("no tenant '" + slug + "'");
            storage::scopeToTenants(s, {tenantId});
            int taken = 0;
            s << "SELECT count(*)::integer FROM pulse.devices WHERE tenant_id = $1::uuid AND name = $2",
                use(tenantId), use(device), into(taken), now;
            if (taken) throw Conflict("tenant '" + slug + "' already has a device named '" + device + "'");
            s << "INSERT INTO pulse.devices (tenant_id, name, tags) VALUES ($1::uuid, $2, $3::text[]) "
                 "RETURNING id",
                use(tenantId), use(device), use(tagArray), into(out.deviceId), now;
            s << "INSERT INTO pulse.device_credentials (tenant_id, device_id, token_sha256, token_prefix, "
                 "mqtt_hash) "
                 "VALUES ($1::uuid, $2, decode($3, 'hex'), $4, $5)",
                use(tenantId), use(out.deviceId), use(digest), use(prefix), use(mqtt), now;
            s.commit();
        } catch (...) {
            s.rollback();
            throw;
        }
    });
    return out;
}

}  // namespace pulse::services
