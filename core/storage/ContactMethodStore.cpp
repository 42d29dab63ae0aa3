#include "storage/ContactMethodStore.h"

#include "storage/PgPool.h"
#include "storage/ResultRow.h"
#include "storage/SqlText.h"

namespace pulse::storage {
namespace {

// A user's contact methods with their channel, oldest first ($2: one of them, or all).
const std::string kSelectMethods =
    "SELECT m.id, m.user_id, m.kind, m.address, m.channel_id, c.name AS channel_name, c.type AS "
    "channel_type, "
    "m.label, " +
    isoTime("m.created_at") +
    " AS created_at FROM pulse.user_contact_methods m JOIN pulse.channels c ON c.id = m.channel_id "
    "WHERE m.user_id = $1::uuid AND ($2::uuid IS NULL OR m.id = $2::uuid) ORDER BY m.created_at, m.id";

// Users and channels are looked up under the tenant first: foreign keys are checked without row-level
// security, so another tenant's id must be refused here like an unknown one.
const char* kUserExists = "SELECT 1 FROM pulse.users WHERE id = $1::uuid";
const char* kChannelType = "SELECT type FROM pulse.channels WHERE id = $1::uuid AND deleted_at IS NULL";
const char* kCountMethods = "SELECT count(*) AS n FROM pulse.user_contact_methods WHERE user_id = $1::uuid";

const char* kInsertMethod =
    "INSERT INTO pulse.user_contact_methods (tenant_id, user_id, kind, address, channel_id, label) VALUES "
    "($1::uuid, $2::uuid, $3, $4, $5::uuid, $6) RETURNING id::text AS id";

// Deliveries that used it keep their history (contact_method_id is set to NULL).
const char* kDeleteMethod =
    "DELETE FROM pulse.user_contact_methods WHERE id = $1::uuid AND user_id = $2::uuid RETURNING id";

ContactMethodRow methodOf(const ResultRow& r) {
    ContactMethodRow m;
    m.id = r.text("id");
    m.userId = r.text("user_id");
    m.kind = r.text("kind");
    m.address = r.optionalText("address");
    m.channelId = r.text("channel_id");
    m.channelName = r.text("channel_name");
    m.channelType = r.text("channel_type");
    m.label = r.text("label");
    m.createdAt = r.text("created_at");
    return m;
}

}  // namespace

std::optional<std::vector<ContactMethodRow>> ContactMethodStore::list(const std::string& tenantId,
                                                                      const std::string& userId) {
    std::optional<std::vector<ContactMethodRow>> out;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        if (conn.query(kUserExists, {userId}).rows.empty()) return;
        out = rowsOf(conn.query(kSelectMethods, {userId, std::nullopt}), methodOf);
    });
    return out;
}

std::optional<ContactMethodRow> ContactMethodStore::find(const std::string& tenantId,
                                                         const std::string& userId, const std::string& id) {
    return firstOf(pool_.queryAsTenant(tenantId, kSelectMethods, {userId, id}), methodOf);
}

ContactMethodSave ContactMethodStore::create(const std::string& tenantId, const std::string& userId,
                                             const ContactMethodFields& m) {
    ContactMethodSave saved;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        if (conn.query(kUserExists, {userId}).rows.empty()) {
            saved.result = ContactMethodSave::Result::NoSuchUser;
            return;
        }
        auto type = firstOf(conn.query(kChannelType, {m.channelId}),
                            [](const ResultRow& r) { return r.text("type"); });
        if (!type) {
            saved.result = ContactMethodSave::Result::NoSuchChannel;
            return;
        }
        if (m.kind == "email" && *type != "smtp") {
            saved.result = ContactMethodSave::Result::NotAMailChannel;
            return;
        }
        auto count = conn.query(kCountMethods, {userId});
        if (ResultRow(count, 0).integer("n") >= kMaxPerUser) {
            saved.result = ContactMethodSave::Result::TooMany;
            return;
        }
        auto inserted =
            conn.query(kInsertMethod, {tenantId, userId, m.kind, m.address, m.channelId, m.label});
        saved.id = ResultRow(inserted, 0).text("id");
    });
    return saved;
}

bool ContactMethodStore::remove(const std::string& tenantId, const std::string& userId,
                                const std::string& id) {
    return !pool_.queryAsTenant(tenantId, kDeleteMethod, {id, userId}).rows.empty();
}

}  // namespace pulse::storage
