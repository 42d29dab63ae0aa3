#include "services/LinkSigner.h"

#include "services/SecretBox.h"
#include "services/Sodium.h"

#include <stdexcept>

namespace pulse::services {
namespace {

std::string toBase64Url(const unsigned char* data, size_t size) {
    std::string out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
    sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out.resize(out.find('\0'));
    return out;
}

std::optional<std::string> fromBase64Url(const std::string& text, size_t maxBytes) {
    std::string out(maxBytes, '\0');
    size_t len = 0;
    const char* end = nullptr;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(),
                          nullptr, &len, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        end != text.data() + text.size())
        return std::nullopt;
    out.resize(len);
    return out;
}

}  // namespace

LinkSigner::LinkSigner(const SecretBox& secrets) {
    ensureSodium();
    if (secrets.hasKey()) key_ = secrets.derive("pulselnk");
}

std::string LinkSigner::sign(const std::string& payload) const {
    if (!key_) throw std::runtime_error("no secrets key is configured (secrets.key_file)");
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256(mac, reinterpret_cast<const unsigned char*>(payload.data()), payload.size(),
                           key_->data());
    return toBase64Url(reinterpret_cast<const unsigned char*>(payload.data()), payload.size()) + "." +
           toBase64Url(mac, sizeof mac);
}

std::optional<std::string> LinkSigner::verify(const std::string& token) const {
    constexpr size_t kMaxPayload = 512;
    if (!key_ || token.size() > 2 * kMaxPayload) return std::nullopt;
    auto dot = token.find('.');
    if (dot == std::string::npos) return std::nullopt;
    auto payload = fromBase64Url(token.substr(0, dot), kMaxPayload);
    auto mac = fromBase64Url(token.substr(dot + 1), crypto_auth_hmacsha256_BYTES);
    if (!payload || !mac || mac->size() != crypto_auth_hmacsha256_BYTES) return std::nullopt;
    if (crypto_auth_hmacsha256_verify(reinterpret_cast<const unsigned char*>(mac->data()),
                                      reinterpret_cast<const unsigned char*>(payload->data()),
                                      payload->size(), key_->data()) != 0)
        return std::nullopt;
    return payload;
}

}  // namespace pulse::services
