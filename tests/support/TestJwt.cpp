#include "TestJwt.h"

#include <Poco/Base64Encoder.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <sstream>
#include <stdexcept>

namespace pulse::test {
namespace {

std::string bnParam(EVP_PKEY* key, const char* name, int pad = 0) {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &bn) != 1)
        throw std::runtime_error(std::string("no key parameter ") + name);
    std::string out(static_cast<size_t>(pad ? pad : BN_num_bytes(bn)), '\0');
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
    BN_free(bn);
    return out;
}

}  // namespace

std::string base64url(std::string_view bytes) {
    std::ostringstream os;
    Poco::Base64Encoder enc(os, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
    enc.rdbuf()->setLineLength(0);
    enc.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    enc.close();
    return os.str();
}

TestSigningKey TestSigningKey::rsa(const std::string& kid, int bits) {
    TestSigningKey k;
    k.kid_ = kid;
    k.alg_ = "RS256";
    k.key_.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)), EVP_PKEY_free);
    if (!k.key_) throw std::runtime_error("RSA key generation failed");
    return k;
}

TestSigningKey TestSigningKey::p256(const std::string& kid) {
    TestSigningKey k;
    k.kid_ = kid;
    k.alg_ = "ES256";
    k.key_.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free);
    if (!k.key_) throw std::runtime_error("EC key generation failed");
    return k;
}

std::string TestSigningKey::publicJwk() const {
    std::string common = "\"kid\":\"" + kid_ + "\",\"use\":\"sig\",\"alg\":\"" + alg_ + "\"";
    if (alg_ == "RS256")
        return "{\"kty\":\"RSA\"," + common + ",\"n\":\"" +
               base64url(bnParam(key_.get(), OSSL_PKEY_PARAM_RSA_N)) + "\",\"e\":\"" +
               base64url(bnParam(key_.get(), OSSL_PKEY_PARAM_RSA_E)) + "\"}";
    return "{\"kty\":\"EC\",\"crv\":\"P-256\"," + common + ",\"x\":\"" +
           base64url(bnParam(key_.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32)) + "\",\"y\":\"" +
           base64url(bnParam(key_.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32)) + "\"}";
}

std::string TestSigningKey::sign(const std::string& claimsJson, const std::string& headerJson) const {
    std::string header = headerJson.empty()
                             ? "{\"alg\":\"" + alg_ + "\",\"typ\":\"JWT\",\"kid\":\"" + kid_ + "\"}"
                             : headerJson;
    std::string input = base64url(header) + "." + base64url(claimsJson);
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    size_t len = 0;
    if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                       input.size()) != 1)
        throw std::runtime_error("signing failed");
    std::string sig(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
        throw std::runtime_error("signing failed");
    sig.resize(len);
    if (alg_ == "ES256") {  // DER -> r || s, as JOSE wants
        const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
        ECDSA_SIG* ecdsa = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
        std::string raw(64, '\0');
        BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa), reinterpret_cast<unsigned char*>(raw.data()), 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
        ECDSA_SIG_free(ecdsa);
        sig = raw;
    }
    return input + "." + base64url(sig);
}

std::string TestSigningKey::publicPem() const {
    std::unique_ptr<BIO, int (*)(BIO*)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_PUBKEY(bio.get(), key_.get());
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(len));
}

std::string hs256Token(const std::string& headerJson, const std::string& claimsJson,
                       const std::string& secret) {
    std::string input = base64url(headerJson) + "." + base64url(claimsJson);
    unsigned char mac[32];
    unsigned int len = sizeof mac;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
    return input + "." + base64url(std::string(reinterpret_cast<char*>(mac), len));
}

}  // namespace pulse::test
