#pragma once

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace pulse::storage {

class DatabaseError : public std::runtime_error {
  public:
    DatabaseError(const std::string& message, std::string sqlState = "", std::string primary = "")
        : std::runtime_error(message), sqlState_(std::move(sqlState)), primary_(std::move(primary)) {}
    const std::string& sqlState() const { return sqlState_; }
    // The message alone (no "ERROR:", context or hint): what a problem our own SQL raises can tell a user.
    const std::string& primaryMessage() const { return primary_; }

  private:
    std::string sqlState_, primary_;
};

// Whether an error means the database is away (retry later) rather than that it refused the statement:
// no SQLSTATE (libpq lost the connection), 08 connection exceptions, 57P0x shutdown or crash recovery,
// 53 out of resources (disk full), 40001/40P01 serialization failure or deadlock.
inline bool isTransient(const DatabaseError& e) {
    const std::string& s = e.sqlState();
    return s.empty() || s.rfind("08", 0) == 0 || s.rfind("57P0", 0) == 0 || s.rfind("53", 0) == 0 ||
           s == "40001" || s == "40P01";
}

// The result of one statement: rows of optional text values.
struct PgRows {
    std::vector<std::string> columns;
    std::vector<std::vector<std::optional<std::string>>> rows;
};

// A libpq connection for what Poco Data does not do: multi-statement migration scripts, session-level
// advisory locks, pipeline mode with binary arrays (the telemetry writers), and statements with
// many optional parameters. Taken from PgPool, except the schema owner's for migrations.
class PgConnection {
  public:
    explicit PgConnection(const std::string& conninfo);
    // Runs one or more statements; throws DatabaseError with the server's message and SQLSTATE.
    void exec(const std::string& sql);
    // Runs one statement with text parameters and returns its rows.
    PgRows query(const std::string& sql, const std::vector<std::optional<std::string>>& params = {});
    // Prepares a statement under a name for this connection: parsed and planned once, not per call. A name
    // this connection has prepared already is not sent again (pooled connections serve several users).
    void prepare(const std::string& name, const std::string& sql);
    // One statement of a pipeline: SQL with text parameters, or a prepared statement's name with
    // parameters in PostgreSQL's binary form (see BinaryEncoding.h; the statement gives their types,
    // $1::bigint[]).
    struct Statement {
        std::string sqlOrName;
        std::vector<std::string> params;
        bool prepared = false;
    };
    // What became of one statement of a pipeline.
    struct Outcome {
        enum class State { Done, Failed, Skipped } state = State::Skipped;  // Skipped: after a failure
        std::string sqlState, message;
        PgRows rows;
    };
    // Sends the statements in one round trip (libpq's pipeline mode) and returns each one's outcome:
    // after the first failure the server skips the rest. Throws DatabaseError (without SQLSTATE) only
    // when the connection fails; the connection is then not to be used again.
    std::vector<Outcome> pipeline(const std::vector<Statement>& statements);
    // COPY ... FROM STDIN with the given data (text or binary, as the statement says).
    void copyIn(const std::string& copyStatement, const std::string& data);
    PGconn* native() { return conn_.get(); }

  private:
    PgRows rowsOf(PGresult* result);  // takes the result; throws DatabaseError for an error
    std::unique_ptr<PGconn, void (*)(PGconn*)> conn_;
    std::set<std::string> prepared_;
};

}  // namespace pulse::storage
