#pragma once

#include "storage/PgConnection.h"

#include <string>
#include <vector>

namespace pulse::storage {

struct Migration {
    int version = 0;
    std::string name;  // file name, e.g. 001_foundation.sql
    std::string path;
    std::string sql;
    std::string checksum;  // SHA-256 of the file, hex
};

// Applies sql/NNN_name.sql in order, each in its own transaction, under a session advisory lock so that
// several pulsed instances starting together migrate once. Records every applied file's checksum and
// refuses to start when an applied file was changed or the database knows a migration this build lacks.
class MigrationRunner {
  public:
    explicit MigrationRunner(std::string directory);

    // The migration files, validated (names, no duplicate versions), in order.
    std::vector<Migration> discover() const;

    // Applies what is pending, grants the application role its privileges, returns what was applied.
    std::vector<Migration> migrate(PgConnection& owner, const std::string& appRole) const;

    // What is pending, without applying anything; throws on a changed or unknown applied migration.
    std::vector<Migration> pending(PgConnection& conn) const;

    static constexpr long long kAdvisoryLockKey = 7152000001LL;

  private:
    std::vector<Migration> compare(PgConnection& conn, const std::vector<Migration>& files) const;
    std::string directory_;
};

}  // namespace pulse::storage
