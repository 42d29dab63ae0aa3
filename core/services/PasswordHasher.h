#pragma once

#include <string>

namespace pulse::services {

// Argon2id password hashes in the PHC string format (libsodium crypto_pwhash_str): t = 2 passes over
// 64 MiB, above the m >= 19 MiB, t >= 2 floor of docs/reliability.md S5.
std::string hashPassword(const std::string& password);
bool verifyPassword(const std::string& hash, const std::string& password);

}  // namespace pulse::services
