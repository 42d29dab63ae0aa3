#include "services/Tokens.h"

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>
#include <sodium.h>

#include <stdexcept>

namespace pulse::services {

std::string randomToken(std::string_view prefix) {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    char encoded[sodium_base64_ENCODED_LEN(sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    sodium_bin2base64(encoded, sizeof encoded, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return std::string(prefix) + encoded;
}

std::string tokenDigest(std::string_view token) {
    Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
    engine.update(token.data(), static_cast<unsigned>(token.size()));
    return Poco::DigestEngine::digestToHex(engine.digest());
}

}  // namespace pulse::services
