#include "config/ProcessIdentity.h"

#include <Poco/Environment.h>

#include <unistd.h>
#include <random>

namespace pulse::config {

const std::string& processIdentity() {
    static const std::string identity = [] {
        std::random_device rd;
        return Poco::Environment::nodeName() + ":" + std::to_string(getpid()) + ":" +
               std::to_string(rd() % 100000);
    }();
    return identity;
}

}  // namespace pulse::config
