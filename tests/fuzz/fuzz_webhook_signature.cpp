// libFuzzer target: Standard Webhooks signature headers as a receiver would see them, and secrets as a
// tenant would enter them; a signature the sender made always verifies.
#include "StandardWebhooks.h"

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    (void)pulse::webhooks::verify(secret, "msg_1", 1614265330, "{}", text);
    std::string sig = pulse::webhooks::sign(secret, "msg_1", 1614265330, text);
    if (!pulse::webhooks::verify(secret, "msg_1", 1614265330, text, sig)) __builtin_trap();
    try {
        (void)pulse::webhooks::sign(text, "msg_1", 0, "");
    } catch (const std::invalid_argument&) {
    }
    return 0;
}
