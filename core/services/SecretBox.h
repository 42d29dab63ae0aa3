#pragma once

#include <array>
#include <optional>
#include <string>

namespace pulse::services {

// Authenticated encryption of channel secrets at rest (libsodium crypto_secretbox: XSalsa20-Poly1305).
// The key lives in a file outside the database, so a database dump alone does not reveal secrets.
class SecretBox {
  public:
    SecretBox() = default;  // no key: seal() and open() throw
    // Reads 64 hex digits from path (surrounding whitespace ignored); throws std::runtime_error.
    static SecretBox fromKeyFile(const std::string& path);
    static SecretBox fromHex(const std::string& hex);

    bool hasKey() const { return key_.has_value(); }
    std::string seal(const std::string& plain) const;   // nonce || ciphertext
    std::string open(const std::string& sealed) const;  // throws when tampered or another key
    // A key for another purpose derived from this one (libsodium crypto_kdf: BLAKE2b), so that one key file
    // serves every secret and no purpose's key reveals another's. context: 8 characters naming the purpose.
    std::array<unsigned char, 32> derive(const char (&context)[9]) const;

  private:
    std::optional<std::array<unsigned char, 32>> key_;
};

}  // namespace pulse::services
