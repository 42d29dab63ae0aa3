// libFuzzer target: bearer-token verification (services/OidcVerifier.cpp) and the JWKS reader on arbitrary
// bytes. verify() must refuse with a reason and never throw; parseJwks() may only throw
// std::invalid_argument. A token the fuzzer cannot sign must never verify.
#include "services/OidcVerifier.h"

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace {

// A real P-256 key (from RFC 7515 appendix A.3) so that the signature path runs.
const char* kJwks =
    "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k1\",\"x\":"
    "\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    static pulse::services::OidcVerifier verifier(
        [] {
            // Built here, not from config::defaults(): the target links OidcVerifier.cpp alone.
            pulse::config::OidcSettings c{};
            c.issuer = "https://idp.test";
            c.audience = "pulse";
            c.jwksUri = "https://idp.test/certs";
            c.algorithms = {"RS256", "ES256"};
            c.roleClaim = "pulse_role";
            c.tenantClaim = "pulse_tenant";
            c.leewayS = 60;
            c.jwksRefreshS = 60;
            return pulse::services::OidcSettings(c);
        }(),
        [] { return std::string(kJwks); });
    std::string why;
    if (verifier.verify(text, why)) __builtin_trap();
    if (why.empty()) __builtin_trap();
    try {
        pulse::services::parseJwks(text);
    } catch (const std::invalid_argument&) {
    }
    return 0;
}
