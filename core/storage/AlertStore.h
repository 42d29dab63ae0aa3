#pragma once

#include "storage/Page.h"

#include <optional>
#include <string>
#include <vector>

namespace pulse::storage {

class PgPool;

// One alert as the API shows it, with its device's and rule's names.
struct AlertRow {
    long long id = 0;
    std::string status;     // OPEN, ACKNOWLEDGED, CLOSED
    std::string condition;  // FIRING, CLEARED
    std::string severity;
    bool flapping = false;
    std::string summary;
    std::optional<double> lastValue;
    long long deviceId = 0;
    std::string deviceName;
    std::string ruleId, ruleName, ruleType;
    std::string triggeredAt, openedAt;  // RFC 3339 UTC, like every time here
    std::optional<std::string> acknowledgedAt, acknowledgedBy, closedAt, closedBy, closeReason, silencedUntil;
    std::optional<std::string> assigneeId;
    std::string tenantId;
};

// One entry of an alert's history.
struct AlertEventRow {
    std::string kind;  // OPENED, ACKNOWLEDGED, COMMENTED, ...
    std::string at;
    std::string actor;
    std::optional<double> value;
    std::string detailJson;
};

struct AlertHistory {
    AlertRow alert;
    std::vector<AlertEventRow> events;  // oldest first
};

// One try of a delivery.
struct DeliveryAttemptRow {
    int attempt = 0;
    std::string startedAt;
    int durationMs = 0;
    std::string outcome;
    std::optional<int> statusCode;
    std::string detail;
};

// One notification of an alert event to a channel, with its attempts.
struct DeliveryRow {
    long long id = 0;
    std::string channelId, channelName, channelType;
    std::string eventKind;
    std::string status;
    int attempts = 0, maxAttempts = 0;
    std::optional<int> lastStatusCode;
    std::string lastError;
    std::string idempotencyKey;
    std::string createdAt, nextAttemptAt;
    std::optional<std::string> completedAt;
    std::vector<DeliveryAttemptRow> attemptLog;
};

// Which alerts a list shows, newest first.
struct AlertFilter {
    std::string status = "OPEN";  // or ACKNOWLEDGED, CLOSED, ALL
    std::optional<std::string> severity, siteId;
    std::optional<long long> deviceId;
    std::optional<long long> beforeId;  // the cursor: ids below it
    int limit = 50;
};

// One alert of an export, its numbers as PostgreSQL prints them (exports write them verbatim).
struct AlertExportRow {
    long long id = 0;
    std::string status, severity, condition, deviceName, ruleName, summary;
    std::optional<std::string> lastValue;
    std::string openedAt;
    std::optional<std::string> acknowledgedAt, acknowledgedBy, closedAt, closedBy, closeReason;
};

// What the API reads of alerts, their history and their deliveries, each in a transaction scoped to the
// tenant(s) (row-level security). Changes to alerts go through services::AlertService.
class AlertStore {
  public:
    explicit AlertStore(PgPool& pool) : pool_(pool) {}

    // Throws DatabaseError, like every method here.
    Page<AlertRow> list(const std::vector<std::string>& tenantIds, const AlertFilter& filter);
    std::optional<AlertRow> find(const std::string& tenantId, long long id);
    std::optional<AlertHistory> findWithHistory(const std::string& tenantId, long long id);
    // Whether the tenant has the alert and it is not closed.
    bool isOpen(const std::string& tenantId, long long id);
    // The alert's deliveries (the first 500, oldest first); nullopt when the tenant has no such alert.
    std::optional<std::vector<DeliveryRow>> deliveries(const std::string& tenantId, long long alertId);
    // Alerts opened in [fromMs, toMs) with the status (or ALL), oldest first, at most maxRows.
    std::vector<AlertExportRow> exportRows(const std::string& tenantId, const std::string& status,
                                           long long fromMs, long long toMs, int maxRows);

  private:
    PgPool& pool_;
};

}  // namespace pulse::storage
