#include "storage/MigrationRunner.h"

#include "logging/Logging.h"

#include <Poco/DigestEngine.h>
#include <Poco/DirectoryIterator.h>
#include <Poco/File.h>
#include <Poco/FileStream.h>
#include <Poco/RegularExpression.h>
#include <Poco/SHA2Engine.h>
#include <Poco/StreamCopier.h>

#include <algorithm>
#include <chrono>
#include <map>

namespace pulse::storage {
namespace {

const char* kLedgerDdl =
    "CREATE SCHEMA IF NOT EXISTS pulse_meta;"
    "CREATE TABLE IF NOT EXISTS pulse_meta.schema_migrations ("
    "  version integer PRIMARY KEY,"
    "  name text NOT NULL,"
    "  checksum text NOT NULL,"
    "  applied_at timestamptz NOT NULL DEFAULT now(),"
    "  execution_ms integer NOT NULL)";

std::string sha256(const std::string& data) {
    Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
    engine.update(data);
    return Poco::DigestEngine::digestToHex(engine.digest());
}

// Whether the ledger exists, without creating it (pending() must not write).
bool ledgerExists(PgConnection& conn) {
    auto rows = conn.query("SELECT to_regclass('pulse_meta.schema_migrations') IS NOT NULL");
    return rows.rows.at(0).at(0).value_or("f") == "t";
}

}  // namespace

MigrationRunner::MigrationRunner(std::string directory) : directory_(std::move(directory)) {}

std::vector<Migration> MigrationRunner::discover() const {
    if (!Poco::File(directory_).exists())
        throw DatabaseError("migrations directory " + directory_ + " does not exist");
    Poco::RegularExpression pattern("^([0-9]{3,})_[a-z0-9_]+\\.sql$");
    std::map<int, Migration> byVersion;
    for (Poco::DirectoryIterator it(directory_), end; it != end; ++it) {
        if (!it->isFile() || it.name().size() < 4 || it.name().substr(it.name().size() - 4) != ".sql")
            continue;
        std::vector<std::string> groups;
        if (pattern.split(it.name(), groups) < 2)
            throw DatabaseError("migration file " + it.name() + " is not named NNN_lowercase_name.sql");
        Migration m;
        m.version = std::stoi(groups[1]);
        m.name = it.name();
        m.path = it->path();
        Poco::FileInputStream in(m.path);
        Poco::StreamCopier::copyToString(in, m.sql);
        m.checksum = sha256(m.sql);
        if (byVersion.count(m.version))
            throw DatabaseError("migrations " + byVersion[m.version].name + " and " + m.name +
                                " share version " + std::to_string(m.version));
        byVersion[m.version] = std::move(m);
    }
    std::vector<Migration> out;
    for (auto& [v, m] : byVersion) out.push_back(std::move(m));
    return out;
}

std::vector<Migration> MigrationRunner::compare(PgConnection& conn,
                                                const std::vector<Migration>& files) const {
    std::map<int, std::pair<std::string, std::string>> applied;  // version -> (name, checksum)
    if (ledgerExists(conn)) {
        for (const auto& row :
             conn.query("SELECT version, name, checksum FROM pulse_meta.schema_migrations").rows)
            applied[std::stoi(*row[0])] = {*row[1], *row[2]};
    }
    std::vector<Migration> pending;
    for (const auto& m : files) {
        auto it = applied.find(m.version);
        if (it == applied.end()) {
            pending.push_back(m);
            continue;
        }
        if (it->second.second != m.checksum)
            throw DatabaseError(
                "migration " + m.name + " was changed after it was applied (recorded sha256 " +
                it->second.second.substr(0, 12) + "..., file now " + m.checksum.substr(0, 12) +
                "...); restore the file and put the change in a new migration");
        applied.erase(it);
    }
    if (!applied.empty()) {
        const auto& [version, info] = *applied.begin();
        throw DatabaseError("the database has migration " + info.first + " (version " +
                            std::to_string(version) + ") that " + directory_ +
                            " lacks; is an older pulsed running against a newer schema?");
    }
    return pending;
}

std::vector<Migration> MigrationRunner::pending(PgConnection& conn) const {
    return compare(conn, discover());
}

std::vector<Migration> MigrationRunner::migrate(PgConnection& owner, const std::string& appRole) const {
    auto files = discover();
    auto log = logging::get("db");
    owner.exec("SELECT pg_advisory_lock(" + std::to_string(kAdvisoryLockKey) + ")");
    struct Unlock {
        PgConnection& c;
        ~Unlock() {
            try {
                c.exec("SELECT pg_advisory_unlock(" + std::to_string(kAdvisoryLockKey) + ")");
            } catch (...) {
            }
        }
    } unlock{owner};

    owner.exec(kLedgerDdl);
    auto todo = compare(owner, files);
    for (const auto& m : todo) {
        auto started = std::chrono::steady_clock::now();
        try {
            owner.exec("BEGIN");
            owner.exec(m.sql);
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                            started);
            owner.query(
                "INSERT INTO pulse_meta.schema_migrations (version, name, checksum, execution_ms) "
                "VALUES ($1, $2, $3, $4)",
                {std::to_string(m.version), m.name, m.checksum, std::to_string(ms.count())});
            owner.exec("COMMIT");
            log->info("migration {} applied in {} ms", m.name, ms.count());
        } catch (const DatabaseError& e) {
            try {
                owner.exec("ROLLBACK");
            } catch (...) {
            }
            throw DatabaseError("migration " + m.name + " failed: " + e.what(), e.sqlState());
        }
    }

    auto role = owner.query("SELECT 1 FROM pg_roles WHERE rolname = $1", {appRole});
    if (role.rows.empty()) throw DatabaseError("db.app_role " + appRole + " does not exist in the database");
    std::unique_ptr<char, void (*)(void*)> quoted(
        PQescapeIdentifier(owner.native(), appRole.c_str(), appRole.size()), &PQfreemem);
    std::string r = quoted.get();
    // One transaction: the blanket grant and the revocations on tables written only through SECURITY
    // DEFINER functions (comment "pulse:no-direct-writes ...": the audit log, sessions, tenants) take effect
    // together, so pulsed's role never holds those write privileges, not even for a moment.
    owner.exec(
        "BEGIN; GRANT USAGE ON SCHEMA pulse TO " + r +
        "; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA pulse TO " + r +
        "; GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA pulse TO " + r +
        "; GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pulse TO " + r +
        // Read-only ledger access, so that a pulsed without owner credentials can check the schema.
        "; GRANT USAGE ON SCHEMA pulse_meta TO " + r + "; GRANT SELECT ON pulse_meta.schema_migrations TO " +
        r +
        "; DO $$ DECLARE t regclass; BEGIN FOR t IN SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace "
        "n "
        "ON n.oid = c.relnamespace WHERE n.nspname = 'pulse' AND obj_description(c.oid, 'pg_class') LIKE "
        "'pulse:no-direct-writes%' LOOP EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON %s FROM "
        "%s', "
        "t, " +
        std::string(owner.query("SELECT quote_literal($1)", {r}).rows.at(0).at(0).value()) +
        "); END LOOP; END $$; COMMIT");
    return todo;
}

}  // namespace pulse::storage
