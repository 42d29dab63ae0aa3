#include "services/OidcVerifier.h"

#include "services/Roles.h"

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <cctype>
#include <sstream>
#include <stdexcept>

namespace pulse::services {
namespace {

using JsonObject = Poco::JSON::Object::Ptr;

// base64url without padding (RFC 7515 section 2); nullopt for anything else.
std::optional<std::string> base64url(std::string_view text) {
    if (text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") !=
            std::string_view::npos ||
        text.size() % 4 == 1)
        return std::nullopt;
    try {
        std::istringstream in{std::string(text)};
        Poco::Base64Decoder decoder(in, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
        std::string out((std::istreambuf_iterator<char>(decoder)), std::istreambuf_iterator<char>());
        return out;
    } catch (const Poco::Exception&) {
        return std::nullopt;
    }
}

JsonObject jsonObject(const std::string& text) {
    try {
        Poco::JSON::Parser parser;
        auto v = parser.parse(text);
        if (v.type() == typeid(JsonObject)) return v.extract<JsonObject>();
    } catch (const std::exception&) {
    }
    return nullptr;
}

std::optional<std::string> stringMember(const JsonObject& o, const std::string& name) {
    if (!o->has(name) || !o->get(name).isString()) return std::nullopt;
    return o->getValue<std::string>(name);
}

std::optional<double> numberMember(const JsonObject& o, const std::string& name) {
    if (!o->has(name)) return std::nullopt;
    auto v = o->get(name);
    if (!v.isNumeric()) return std::nullopt;
    try {
        return v.convert<double>();
    } catch (const Poco::Exception&) {
        return std::nullopt;
    }
}

struct BnDeleter {
    void operator()(BIGNUM* b) const { BN_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, BnDeleter>;

std::shared_ptr<EVP_PKEY> keyFromParams(const char* type, OSSL_PARAM_BLD* build) {
    std::unique_ptr<OSSL_PARAM, void (*)(OSSL_PARAM*)> params(OSSL_PARAM_BLD_to_param(build),
                                                              OSSL_PARAM_free);
    std::unique_ptr<EVP_PKEY_CTX, void (*)(EVP_PKEY_CTX*)> ctx(
        EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr), EVP_PKEY_CTX_free);
    EVP_PKEY* key = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
        ERR_clear_error();  // a key that is not one (a point off the curve): skipped, nothing left queued
        return nullptr;
    }
    return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

std::shared_ptr<EVP_PKEY> rsaKey(const std::string& n, const std::string& e) {
    Bn modulus(
        BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr));
    Bn exponent(
        BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr));
    if (!modulus || !exponent || BN_num_bits(modulus.get()) < 2048) return nullptr;
    std::unique_ptr<OSSL_PARAM_BLD, void (*)(OSSL_PARAM_BLD*)> build(OSSL_PARAM_BLD_new(),
                                                                     OSSL_PARAM_BLD_free);
    if (!build || OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, modulus.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, exponent.get()) != 1)
        return nullptr;
    return keyFromParams("RSA", build.get());
}

std::shared_ptr<EVP_PKEY> p256Key(const std::string& x, const std::string& y) {
    if (x.size() != 32 || y.size() != 32) return nullptr;
    std::string point = "\x04" + x + y;  // uncompressed; OpenSSL checks it is on the curve
    std::unique_ptr<OSSL_PARAM_BLD, void (*)(OSSL_PARAM_BLD*)> build(OSSL_PARAM_BLD_new(),
                                                                     OSSL_PARAM_BLD_free);
    char group[] = "prime256v1";
    if (!build || OSSL_PARAM_BLD_push_utf8_string(build.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(build.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) !=
            1)
        return nullptr;
    return keyFromParams("EC", build.get());
}

// JOSE's ES256 signature is r || s (32 bytes each); OpenSSL verifies DER.
std::optional<std::string> ecdsaDer(const std::string& raw) {
    if (raw.size() != 64) return std::nullopt;
    ECDSA_SIG* sig = ECDSA_SIG_new();
    if (!sig) return std::nullopt;
    BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
    BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
    if (!r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        return std::nullopt;
    }
    unsigned char* der = nullptr;
    int len = i2d_ECDSA_SIG(sig, &der);
    ECDSA_SIG_free(sig);
    if (len <= 0) return std::nullopt;
    std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
    OPENSSL_free(der);
    return out;
}

bool signatureHolds(EVP_PKEY* key, std::string_view signedPart, const std::string& signature) {
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
           EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(), reinterpret_cast<const unsigned char*>(signedPart.data()),
                            signedPart.size()) == 1;
}

// The claim at a dotted path ("realm_access.roles"), as strings: a string gives one, an array its strings.
std::vector<std::string> claimStrings(const JsonObject& claims, const std::string& path) {
    JsonObject at = claims;
    std::string rest = path;
    for (size_t dot; (dot = rest.find('.')) != std::string::npos; rest = rest.substr(dot + 1)) {
        std::string part = rest.substr(0, dot);
        if (!at->has(part)) return {};
        at = at->getObject(part);
        if (!at) return {};
    }
    std::vector<std::string> out;
    if (!at->has(rest)) return out;
    if (at->get(rest).isString()) {
        out.push_back(at->getValue<std::string>(rest));
    } else if (auto array = at->getArray(rest)) {
        for (size_t i = 0; i < array->size() && i < 256; ++i) {
            auto v = array->get(static_cast<unsigned>(i));
            if (v.isString()) out.push_back(v.convert<std::string>());
        }
    }
    return out;
}

}  // namespace

std::map<std::string, OidcVerifier::Key> parseJwks(const std::string& document) {
    auto root = jsonObject(document);
    if (!root || !root->has("keys") || !root->getArray("keys"))
        throw std::invalid_argument("not a JWKS document (no \"keys\" array)");
    std::map<std::string, OidcVerifier::Key> keys;
    auto list = root->getArray("keys");
    for (size_t i = 0; i < list->size() && i < 100; ++i) {
        auto jwk = list->getObject(static_cast<unsigned>(i));
        if (!jwk) continue;
        OidcVerifier::Key key;
        key.kty = stringMember(jwk, "kty").value_or("");
        key.kid = stringMember(jwk, "kid").value_or("");
        key.alg = stringMember(jwk, "alg").value_or("");
        if (stringMember(jwk, "use").value_or("sig") != "sig") continue;  // encryption keys do not sign
        if (key.kty == "RSA") {
            auto n = base64url(stringMember(jwk, "n").value_or("")),
                 e = base64url(stringMember(jwk, "e").value_or(""));
            if (n && e) key.publicKey = rsaKey(*n, *e);
        } else if (key.kty == "EC" && stringMember(jwk, "crv").value_or("") == "P-256") {
            auto x = base64url(stringMember(jwk, "x").value_or("")),
                 y = base64url(stringMember(jwk, "y").value_or(""));
            if (x && y) key.publicKey = p256Key(*x, *y);
        }
        if (key.publicKey) keys.emplace(key.kid, std::move(key));
    }
    return keys;
}

OidcVerifier::OidcVerifier(OidcSettings settings, Fetch fetch, Clock clock)
    : settings_(std::move(settings)), fetch_(std::move(fetch)), clock_(std::move(clock)) {}

OidcVerifier::~OidcVerifier() = default;

bool OidcVerifier::looksLikeJwt(std::string_view token) {
    size_t first = token.find('.');
    if (first == std::string_view::npos || first == 0) return false;
    size_t second = token.find('.', first + 1);
    return second != std::string_view::npos && token.find('.', second + 1) == std::string_view::npos;
}

std::shared_ptr<const std::map<std::string, OidcVerifier::Key>> OidcVerifier::keys(bool unknownKid,
                                                                                   std::string& why) {
    std::unique_lock lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    auto age = now - fetchedAt_;
    bool stale = !fetched_ || age > std::chrono::seconds(settings_.jwksMaxAgeS);
    bool mayRefetch = !fetched_ || age > std::chrono::seconds(settings_.jwksRefreshS);
    if ((stale || (unknownKid && mayRefetch)) && !fetching_) {
        // One request fetches, outside the lock; the others go on with the keys they have.
        fetching_ = true;
        fetched_ = true;
        fetchedAt_ = now;  // failures count too: an unreachable provider is asked once per interval
        lock.unlock();
        std::shared_ptr<const std::map<std::string, Key>> fresh;
        try {
            fresh = std::make_shared<const std::map<std::string, Key>>(parseJwks(fetch_()));
        } catch (const std::exception& e) {
            why = std::string("the identity provider's keys could not be fetched: ") + e.what();
            // Keys fetched before stay in use: a provider outage does not sign everyone out.
        }
        lock.lock();
        if (fresh) keys_ = fresh;
        fetching_ = false;
        fetchDone_.notify_all();
    } else if (fetching_ && !keys_) {
        fetchDone_.wait(lock, [&] { return !fetching_; });  // nothing to verify with until the first fetch
        if (!keys_) why = "the identity provider's keys could not be fetched";
    }
    return keys_;
}

std::optional<OidcIdentity> OidcVerifier::verify(std::string_view token, std::string& why) {
    if (settings_.issuer.empty()) {
        why = "OIDC is not configured";
        return std::nullopt;
    }
    if (token.size() > settings_.maxTokenBytes || !looksLikeJwt(token)) {
        why = "not a compact JWS of at most " + std::to_string(settings_.maxTokenBytes) + " bytes";
        return std::nullopt;
    }
    size_t first = token.find('.'), second = token.find('.', first + 1);
    auto headerText = base64url(token.substr(0, first));
    auto payloadText = base64url(token.substr(first + 1, second - first - 1));
    auto signature = base64url(token.substr(second + 1));
    if (!headerText || !payloadText || !signature || signature->empty()) {
        why = "a part of the token is not base64url";
        return std::nullopt;
    }
    auto header = jsonObject(*headerText);
    if (!header) {
        why = "the token's header is not a JSON object";
        return std::nullopt;
    }
    std::string alg = stringMember(header, "alg").value_or("");
    bool allowed = false;
    for (const auto& a : settings_.algorithms) allowed = allowed || a == alg;
    if (!allowed || (alg != "RS256" && alg != "ES256")) {
        why = "algorithm '" + alg.substr(0, 16) + "' is not allowed";
        return std::nullopt;
    }
    // Access tokens only: "JWT" or RFC 9068's "at+jwt" in the header; an ID token (Keycloak marks it
    // "typ": "ID" in its claims) is not a credential for an API.
    std::string typ = stringMember(header, "typ").value_or("JWT");
    for (auto& c : typ) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (typ != "jwt" && typ != "at+jwt" && typ != "application/at+jwt") {
        why = "the token's typ is not an access token's";
        return std::nullopt;
    }
    if (header->has("crit")) {
        why = "the token names critical extensions";
        return std::nullopt;
    }
    std::optional<std::string> kid;
    if (header->has("kid")) {
        kid = stringMember(header, "kid");
        if (!kid || kid->empty() || kid->size() > 256) {
            why = "the token's kid is not a short string";
            return std::nullopt;
        }
    }
    std::string wantedKty = alg == "RS256" ? "RSA" : "EC";
    auto pick = [&](const std::map<std::string, Key>& keys) -> const Key* {
        if (kid) {
            auto it = keys.find(*kid);
            return it == keys.end() ? nullptr : &it->second;
        }
        const Key* only = nullptr;  // no kid: only when exactly one key could have signed
        for (const auto& [id, k] : keys) {
            if (k.kty != wantedKty) continue;
            if (only) return nullptr;
            only = &k;
        }
        return only;
    };
    std::string fetchProblem;
    auto keys = this->keys(false, fetchProblem);
    const Key* key = keys ? pick(*keys) : nullptr;
    if (!key) {
        keys = this->keys(true, fetchProblem);
        key = keys ? pick(*keys) : nullptr;
    }
    if (!key) {
        why = !fetchProblem.empty() ? fetchProblem
              : kid                 ? "no published key has the token's kid"
                                    : "the token names no kid and the provider publishes several keys";
        return std::nullopt;
    }
    if (key->kty != wantedKty || (!key->alg.empty() && key->alg != alg)) {
        why = "the token's algorithm does not fit its key";
        return std::nullopt;
    }
    std::string_view signedPart = token.substr(0, second);
    std::optional<std::string> sig = alg == "ES256" ? ecdsaDer(*signature) : signature;
    if (!sig || !signatureHolds(key->publicKey.get(), signedPart, *sig)) {
        why = "the signature does not hold";
        return std::nullopt;
    }

    auto claims = jsonObject(*payloadText);
    if (!claims) {
        why = "the token's claims are not a JSON object";
        return std::nullopt;
    }
    double now = std::chrono::duration<double>(clock_().time_since_epoch()).count();
    auto exp = numberMember(claims, "exp");
    if (!exp || now > *exp + settings_.leewayS) {
        why = exp ? "the token has expired" : "the token has no expiry";
        return std::nullopt;
    }
    if (auto nbf = numberMember(claims, "nbf");
        claims->has("nbf") && (!nbf || now + settings_.leewayS < *nbf)) {
        why = "the token is not valid yet";
        return std::nullopt;
    }
    if (stringMember(claims, "iss").value_or("") != settings_.issuer) {
        why = "the token is from another issuer";
        return std::nullopt;
    }
    bool audienceOk = false;
    for (const auto& a : claimStrings(claims, "aud")) audienceOk = audienceOk || a == settings_.audience;
    if (!audienceOk) {
        why = "the token is for another audience";
        return std::nullopt;
    }
    if (stringMember(claims, "typ").value_or("") == "ID") {
        why = "an ID token is not an access token";
        return std::nullopt;
    }
    OidcIdentity id;
    id.issuer = settings_.issuer;
    id.subject = stringMember(claims, "sub").value_or("");
    if (id.subject.empty() || id.subject.size() > 255) {
        why = "the token names no subject";
        return std::nullopt;
    }
    for (const auto& value : claimStrings(claims, settings_.roleClaim)) {
        std::string role = value;
        if (!settings_.roleMap.empty()) {
            auto it = settings_.roleMap.find(value);
            role = it == settings_.roleMap.end() ? "" : it->second;
        }
        if (roleRank(role) > roleRank(id.role)) id.role = role;
    }
    if (id.role.empty()) {
        why = "the token carries no Pulse role in '" + settings_.roleClaim + "'";
        return std::nullopt;
    }
    if (id.role == "customer" || id.role == "tenant-admin") {
        auto tenant = claimStrings(claims, settings_.tenantClaim);
        if (tenant.size() != 1 || tenant[0].empty()) {
            why = "a tenant role needs exactly one tenant in '" + settings_.tenantClaim + "'";
            return std::nullopt;
        }
        id.tenantSlug = tenant[0];
    }
    id.label = stringMember(claims, "email")
                   .value_or(stringMember(claims, "preferred_username").value_or(id.subject));
    return id;
}

}  // namespace pulse::services
