#pragma once

#include <string>
#include <vector>

namespace pulse::storage {

class Database;

// One line of Mosquitto's password file.
struct BrokerAccountRow {
    std::string username;  // <tenant slug>/<device name>
    std::string mqttHash;  // Mosquitto's password-file format
};

// The broker accounts of every tenant's devices (sql/004), read on the Database pool through a SECURITY
// DEFINER function: the application role cannot read credentials across tenants itself.
class BrokerAccountStore {
  public:
    explicit BrokerAccountStore(Database& db) : db_(db) {}

    // Every credential that is neither revoked nor of a decommissioned device.
    std::vector<BrokerAccountRow> live();

  private:
    Database& db_;
};

}  // namespace pulse::storage
