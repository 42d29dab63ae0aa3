#include "services/SecretBox.h"

#include <sodium.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace pulse::services {

SecretBox SecretBox::fromHex(const std::string& text) {
    static_assert(crypto_secretbox_KEYBYTES == 32, "key size");
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    std::string hex;
    for (char c : text)
        if (!std::isspace(static_cast<unsigned char>(c))) hex += c;
    std::array<unsigned char, 32> key{};
    size_t len = 0;
    if (hex.size() != 64 ||
        sodium_hex2bin(key.data(), key.size(), hex.data(), hex.size(), nullptr, &len, nullptr) != 0 ||
        len != 32)
        throw std::runtime_error("a secrets key is 64 hex digits (32 bytes)");
    SecretBox box;
    box.key_ = key;
    sodium_memzero(key.data(), key.size());
    return box;
}

SecretBox SecretBox::fromKeyFile(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read the secrets key file " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    try {
        return fromHex(ss.str());
    } catch (const std::exception& e) {
        throw std::runtime_error(path + ": " + e.what());
    }
}

std::string SecretBox::seal(const std::string& plain) const {
    if (!key_) throw std::runtime_error("no secrets key is configured (secrets.key_file)");
    std::string out(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plain.size(), '\0');
    auto* nonce = reinterpret_cast<unsigned char*>(&out[0]);
    randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                          reinterpret_cast<const unsigned char*>(plain.data()), plain.size(), nonce,
                          key_->data());
    return out;
}

std::string SecretBox::open(const std::string& sealed) const {
    if (!key_) throw std::runtime_error("no secrets key is configured (secrets.key_file)");
    if (sealed.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
        throw std::runtime_error("sealed secret is truncated");
    const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
    std::string out(sealed.size() - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
    if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(&out[0]),
                                   nonce + crypto_secretbox_NONCEBYTES,
                                   sealed.size() - crypto_secretbox_NONCEBYTES, nonce, key_->data()) != 0)
        throw std::runtime_error("sealed secret does not open with this key (tampered, or another key)");
    return out;
}

std::array<unsigned char, 32> SecretBox::derive(const char (&context)[9]) const {
    static_assert(crypto_kdf_KEYBYTES == 32 && crypto_kdf_CONTEXTBYTES == 8, "kdf sizes");
    if (!key_) throw std::runtime_error("no secrets key is configured (secrets.key_file)");
    std::array<unsigned char, 32> out{};
    crypto_kdf_derive_from_key(out.data(), out.size(), 1, context, key_->data());
    return out;
}

}  // namespace pulse::services
