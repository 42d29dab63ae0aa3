#include "StandardWebhooks.h"

#include <sodium.h>

#include <stdexcept>
#include <vector>

namespace pulse::webhooks {
namespace {

std::vector<unsigned char> keyOf(std::string_view secret) {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    std::string_view b64 = secret.substr(0, 6) == "whsec_" ? secret.substr(6) : secret;
    std::vector<unsigned char> key(b64.size());
    size_t len = 0;
    if (b64.empty() || sodium_base642bin(key.data(), key.size(), b64.data(), b64.size(), nullptr, &len,
                                         nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
        throw std::invalid_argument("the secret is not whsec_ followed by base64");
    key.resize(len);
    if (len < 24 || len > 64) throw std::invalid_argument("the secret must hold 24 to 64 bytes");
    return key;
}

std::string mac(const std::vector<unsigned char>& key, std::string_view id, int64_t timestamp,
                std::string_view body) {
    std::string content;
    content.reserve(id.size() + body.size() + 24);
    content.append(id).append(".").append(std::to_string(timestamp)).append(".").append(body);
    unsigned char out[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key.data(), key.size());
    crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(content.data()),
                                  content.size());
    crypto_auth_hmacsha256_final(&st, out);
    char b64[sodium_base64_ENCODED_LEN(crypto_auth_hmacsha256_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, out, sizeof out, sodium_base64_VARIANT_ORIGINAL);
    return b64;
}

}  // namespace

std::string sign(std::string_view secret, std::string_view id, int64_t timestamp, std::string_view body) {
    return "v1," + mac(keyOf(secret), id, timestamp, body);
}

bool verify(std::string_view secret, std::string_view id, int64_t timestamp, std::string_view body,
            std::string_view header) {
    std::string expected = mac(keyOf(secret), id, timestamp, body);
    bool ok = false;
    size_t pos = 0;
    while (pos < header.size()) {
        size_t end = header.find(' ', pos);
        if (end == std::string_view::npos) end = header.size();
        std::string_view entry = header.substr(pos, end - pos);
        if (entry.substr(0, 3) == "v1," && entry.size() - 3 == expected.size() &&
            sodium_memcmp(entry.data() + 3, expected.data(), expected.size()) == 0)
            ok = true;
        pos = end + 1;
    }
    return ok;
}

}  // namespace pulse::webhooks
