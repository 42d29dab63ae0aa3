#pragma once

#include <optional>
#include <string>

namespace pulse::services {

class LinkSigner;

// What an acknowledge link is for: one delivery of an alert's opening (or an escalation page), to the user it
// reached (empty: a channel's page), until expiresMs. Single use is the database's
// (deliveries.ack_link_used_at).
struct AcknowledgeClaim {
    std::string tenantId;
    long long alertId = 0;
    long long deliveryId = 0;
    std::string userId;
    long long expiresMs = 0;
};

std::string acknowledgeToken(const LinkSigner& signer, const AcknowledgeClaim& claim);
// The claim of a token this signer made; nullopt for anything else. Expiry is the caller's to check.
std::optional<AcknowledgeClaim> readAcknowledgeToken(const LinkSigner& signer, const std::string& token);

// The notice with links.acknowledge (<console>/api/v1/acknowledge/<token>) added when it opens an alert that
// is still open (alert.opened, alert.escalated), the signer has a key, the console's address is known and
// ttlS > 0; any other notice (or one that is not JSON) comes back unchanged.
std::string withAcknowledgeLink(const std::string& payloadJson, const LinkSigner& signer,
                                const std::string& consoleUrl, long long deliveryId, long long nowMs,
                                int ttlS);

}  // namespace pulse::services
