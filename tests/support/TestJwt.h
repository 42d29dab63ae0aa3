#pragma once

#include <memory>
#include <string>
#include <string_view>

struct evp_pkey_st;

namespace pulse::test {

std::string base64url(std::string_view bytes);

// A signing key as an identity provider holds it, for tests of bearer-token verification: makes its public
// JWK and signs compact JWS tokens (RS256 for RSA, ES256 for P-256).
class TestSigningKey {
  public:
    static TestSigningKey rsa(const std::string& kid, int bits = 2048);
    static TestSigningKey p256(const std::string& kid);

    const std::string& kid() const { return kid_; }
    const std::string& alg() const { return alg_; }
    // {"kty":...,"kid":...,"use":"sig","alg":...,...}
    std::string publicJwk() const;
    // header.claims.signature with {"alg":<alg>,"typ":"JWT","kid":<kid>} unless a header is given.
    std::string sign(const std::string& claimsJson, const std::string& headerJson = "") const;
    // The public key in PEM: what an attacker would use as an HMAC secret (alg confusion).
    std::string publicPem() const;

  private:
    std::string kid_, alg_;
    std::shared_ptr<evp_pkey_st> key_;
};

// A token signed with HMAC-SHA256 under the given secret (for the HS256-with-a-public-key attack).
std::string hs256Token(const std::string& headerJson, const std::string& claimsJson,
                       const std::string& secret);

}  // namespace pulse::test
