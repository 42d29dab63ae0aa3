// libFuzzer target: signed link tokens as a stranger would send them (the calendar feed's URL, the
// acknowledge link): anything but a token this key signed is refused without a crash, a token it signed
// always verifies to its payload, and a signed payload of any shape is a claim only when it has a claim's
// shape.
#include "services/AcknowledgeLinks.h"
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
    (void)pulse::services::readAcknowledgeToken(signer, text);
    // A notice of any text: it comes back unchanged, or as JSON with the link added.
    (void)pulse::services::withAcknowledgeLink(text, signer, "https://p.example", 1, 0, 60);
    if (text.size() <= 512) {
        auto token = signer.sign(text);
        if (pulse::services::readAcknowledgeToken(signer, token) && text.rfind("ack1|", 0) != 0)
            __builtin_trap();  // a calendar token (or anything else signed) is never an acknowledge claim
        auto back = signer.verify(token);
        if (!back || *back != text) __builtin_trap();
        if (!token.empty() && signer.verify(token.substr(0, token.size() - 1)) == text) __builtin_trap();
    }
    return 0;
}
