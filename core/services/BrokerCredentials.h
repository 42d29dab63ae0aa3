#pragma once

#include <string>

namespace pulse::storage {
class Database;
}

namespace pulse::services {

struct BrokerFiles {
    std::string passwordFile;  // the file Mosquitto reads (password_file); empty: not managed
    std::string baseFile;      // accounts Pulse does not manage (the ingest service account)
    std::string pidFile;       // the broker's PID file, signalled with SIGHUP to reload
};

// Writes Mosquitto's password file from the base accounts and every device credential that is neither
// revoked nor decommissioned (atomically, keeping the file's owner and mode), then asks the broker to
// reload it. Returns the number of device accounts.
// Throws std::runtime_error naming the file at fault.
int syncBrokerCredentials(storage::Database& db, const BrokerFiles& files);

}  // namespace pulse::services
