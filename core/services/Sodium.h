#pragma once

#include <sodium.h>

#include <stdexcept>

namespace pulse::services {

// libsodium is initialised once, by whichever of its users runs first (sodium_init is thread-safe; the
// static makes later calls free).
inline void ensureSodium() {
    static const bool ready = sodium_init() >= 0;
    if (!ready) throw std::runtime_error("libsodium failed to initialise");
}

}  // namespace pulse::services
