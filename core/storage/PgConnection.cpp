#include "storage/PgConnection.h"

namespace pulse::storage {
namespace {

std::string trimmed(const char* s) {
    std::string out = s ? s : "";
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
}

void check(PGresult* res, PGconn* conn) {
    auto status = PQresultStatus(res);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return;
    const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    std::string msg = trimmed(res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
    if (msg.empty()) msg = trimmed(PQerrorMessage(conn));
    throw DatabaseError(msg, state ? state : "",
                        trimmed(res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr));
}

}  // namespace

PgConnection::PgConnection(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str()), &PQfinish) {
    if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK)
        throw DatabaseError("cannot connect to PostgreSQL: " +
                            trimmed(conn_ ? PQerrorMessage(conn_.get()) : "out of memory"));
    PQsetNoticeProcessor(
        conn_.get(), [](void*, const char*) {}, nullptr);  // NOTICEs from IF NOT EXISTS
}

void PgConnection::exec(const std::string& sql) {
    std::unique_ptr<PGresult, void (*)(PGresult*)> res(PQexec(conn_.get(), sql.c_str()), &PQclear);
    check(res.get(), conn_.get());
}

void PgConnection::copyIn(const std::string& copyStatement, const std::string& data) {
    std::unique_ptr<PGresult, void (*)(PGresult*)> start(PQexec(conn_.get(), copyStatement.c_str()),
                                                         &PQclear);
    if (PQresultStatus(start.get()) != PGRES_COPY_IN) check(start.get(), conn_.get());
    if (PQputCopyData(conn_.get(), data.data(), static_cast<int>(data.size())) != 1 ||
        PQputCopyEnd(conn_.get(), nullptr) != 1)
        throw DatabaseError("COPY failed: " + trimmed(PQerrorMessage(conn_.get())));
    std::unique_ptr<PGresult, void (*)(PGresult*)> end(PQgetResult(conn_.get()), &PQclear);
    check(end.get(), conn_.get());
    while (PGresult* extra = PQgetResult(conn_.get())) PQclear(extra);
}

PgRows PgConnection::query(const std::string& sql, const std::vector<std::optional<std::string>>& params) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    return rowsOf(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0));
}

void PgConnection::prepare(const std::string& name, const std::string& sql) {
    if (prepared_.count(name)) return;
    std::unique_ptr<PGresult, void (*)(PGresult*)> res(
        PQprepare(conn_.get(), name.c_str(), sql.c_str(), 0, nullptr), &PQclear);
    check(res.get(), conn_.get());
    prepared_.insert(name);
}

std::vector<PgConnection::Outcome> PgConnection::pipeline(const std::vector<Statement>& statements) {
    PGconn* c = conn_.get();
    auto lost = [&](const char* what) {
        return DatabaseError(std::string(what) + ": " +
                             trimmed(PQerrorMessage(c)));  // no SQLSTATE: transient
    };
    if (PQenterPipelineMode(c) != 1) throw lost("cannot enter pipeline mode");
    for (const auto& st : statements) {
        std::vector<const char*> values;
        std::vector<int> lengths, formats;
        for (const auto& p : st.params) {
            values.push_back(p.c_str());
            lengths.push_back(static_cast<int>(p.size()));
            formats.push_back(st.prepared ? 1 : 0);
        }
        int n = static_cast<int>(values.size());
        int sent = st.prepared ? PQsendQueryPrepared(c, st.sqlOrName.c_str(), n, values.data(),
                                                     lengths.data(), formats.data(), 0)
                               : PQsendQueryParams(c, st.sqlOrName.c_str(), n, nullptr, values.data(),
                                                   lengths.data(), formats.data(), 0);
        if (sent != 1) throw lost("cannot send a statement");
    }
    if (PQpipelineSync(c) != 1) throw lost("cannot send the pipeline");
    std::vector<Outcome> out(statements.size());
    for (auto& outcome : out) {
        std::unique_ptr<PGresult, void (*)(PGresult*)> res(PQgetResult(c), &PQclear);
        if (!res) throw lost("a pipelined statement has no result");
        auto status = PQresultStatus(res.get());
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
            outcome.state = Outcome::State::Done;
            outcome.rows = rowsOf(res.release());
        } else if (status == PGRES_FATAL_ERROR) {
            const char* state = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
            outcome.state = Outcome::State::Failed;
            outcome.sqlState = state ? state : "";
            outcome.message = trimmed(PQresultErrorMessage(res.get()));
            if (outcome.sqlState.empty()) throw lost("a pipelined statement failed");
        } else if (status != PGRES_PIPELINE_ABORTED) {
            throw lost("unexpected result in a pipeline");
        }
        // Each statement's results end with a null result.
        std::unique_ptr<PGresult, void (*)(PGresult*)> end(PQgetResult(c), &PQclear);
        if (end) throw lost("a pipelined statement has more than one result");
    }
    std::unique_ptr<PGresult, void (*)(PGresult*)> sync(PQgetResult(c), &PQclear);
    if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) throw lost("the pipeline did not end");
    if (PQexitPipelineMode(c) != 1) throw lost("cannot leave pipeline mode");
    return out;
}

PgRows PgConnection::rowsOf(PGresult* result) {
    std::unique_ptr<PGresult, void (*)(PGresult*)> res(result, &PQclear);
    check(res.get(), conn_.get());
    PgRows out;
    int cols = PQnfields(res.get()), rows = PQntuples(res.get());
    for (int c = 0; c < cols; ++c) out.columns.push_back(PQfname(res.get(), c));
    for (int r = 0; r < rows; ++r) {
        std::vector<std::optional<std::string>> row;
        for (int c = 0; c < cols; ++c)
            row.push_back(PQgetisnull(res.get(), r, c)
                              ? std::nullopt
                              : std::optional<std::string>(PQgetvalue(res.get(), r, c)));
        out.rows.push_back(std::move(row));
    }
    return out;
}

}  // namespace pulse::storage
