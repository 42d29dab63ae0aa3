// libFuzzer target: signed link tokens as a stranger would send them (the calendar feed's URL): anything but
// a token this key signed is refused without a crash, and a token it signed always verifies to its payload.
#include "services/LinkSigner.h"
#include "services/SecretBox.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const pulse::services::LinkSigner signer(pulse::services::SecretBox::fromHex(
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"));
    std::string text(reinterpret_cast<const char*>(data), size);
    (void)signer.verify(text);
    if (text.size() <= 512) {
        auto token = signer.sign(text);
        auto back = signer.verify(token);
        if (!back || *back != text) __builtin_trap();
        if (!token.empty() && signer.verify(token.substr(0, token.size() - 1)) == text) __builtin_trap();
    }
    return 0;
}
