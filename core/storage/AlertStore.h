#pragma once

#include "storage/Page.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace pulse::storage {

class PgConnection;
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
    // The maintenance window it opened in (sql/015; the name NULL once the window is deleted), the parent
    // whose trouble suppressed it (sql/016) and why, and whether its opening's notification still waits
    // (for the window to end, the parent to be well).
    std::optional<std::string> maintenanceWindowId, maintenanceName;
    std::optional<long long> suppressedBy;
    std::optional<std::string> suppressedByName, suppressionReason;
    bool noticeHeld = false;
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
    std::optional<std::string> ruleId;
    std::optional<std::string> assignee;  // a user's id, or "none": unassigned
    std::optional<long long> beforeId;    // the cursor: ids below it
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

// The alert a rule holds open for a device, as the writer finds it.
struct OpenAlertRow {
    long long id = 0;
    std::string condition;  // FIRING, CLEARED
    bool flapping = false;
};

// A new alert: a rule fired for a device it holds none open for.
struct NewAlertFields {
    std::string tenantId, ruleId;
    long long deviceId = 0;
    std::string severity, summary;
    double value = 0;
    long long triggeredAtMs = 0;  // the reading's time
};

// One entry of an alert's history, as the writer adds it.
struct AlertEventFields {
    std::string tenantId;
    long long alertId = 0;
    std::string kind;  // OPENED, FIRING, CLEARED, ...
    std::string actor;
    std::optional<double> value;
    std::string detailJson;
};

// An alert just opened: its id, whether an escalation policy now pages for it, and the parent whose
// trouble suppresses it (and why).
struct OpenedAlert {
    long long id = 0;
    bool escalates = false;
    std::optional<long long> suppressedBy;
    std::string suppressionReason;
};

// An alert opened again by a person: the status it had (ACKNOWLEDGED or CLOSED), and as for an opening.
struct ReopenedAlert {
    std::string was;
    bool escalates = false;
    std::optional<long long> suppressedBy;
    std::string suppressionReason;
};

// A flapping alert (of any tenant) that was stable for its rule's window.
// A held alert free to notify: its maintenance window is over and its parents are well.
// What routing one event did: deliveries made now, and notification groups joined or brought forward (their
// notices are sent by the flusher, sql/018).
struct Routed {
    int deliveries = 0;
    int groups = 0;
};

struct HeldReleaseRow {
    long long id = 0;
    std::string tenantId;
    std::string status;
    std::string condition;  // FIRING, CLEARED
    std::optional<long long> openedEventId;
    std::string releasedBy;  // the event that says why: MAINTENANCE_ENDED or PARENT_RECOVERED
};

struct SettledFlappingAlertRow {
    long long id = 0;
    std::string tenantId;
    std::string condition;
    bool autoClose = false;
};

// The alert writer's statements (services::AlertService decides which), inside the one transaction that
// AlertStore::writeAsTenant or writeAcrossTenants opened: an alert's change, its event and the deliveries
// it causes are committed together (the outbox, docs/architecture.md). Throws DatabaseError.
class AlertTransaction {
  public:
    // Names the tenant whose alerts the next statements change (the sweep's alerts are of several).
    void scopeTo(const std::string& tenantId);

    // The rule's open alert for the device, locked until the transaction ends (writers take turns).
    std::optional<OpenAlertRow> lockOpenAlert(const std::string& ruleId, long long deviceId);
    // The new alert; nullopt when another writer opened one for the rule and device meanwhile. A parent that
    // recovered less than parentSettleS ago still suppresses it.
    std::optional<OpenedAlert> openAlert(const NewAlertFields& alert, int parentSettleS);
    // How often the rule's condition began for the device (its alerts opened or fired again) within the
    // last windowS seconds.
    int opensWithin(const std::string& ruleId, long long deviceId, int windowS);
    // CLEARED to FIRING again.
    void refire(long long alertId, double value, const std::string& summary);
    // Still FIRING: the latest reading.
    void updateReading(long long alertId, double value, const std::string& summary);
    // FIRING to CLEARED, the alert staying open.
    void clear(long long alertId);
    // FIRING to CLEARED and flapping: held open, notifying nobody until it is stable.
    void clearAsFlapping(long long alertId);
    // Closed by the system: its condition recovered.
    void closeRecovered(long long alertId, double value);

    // Every tenant's settled flapping alerts, locked for this transaction.
    std::vector<SettledFlappingAlertRow> lockSettledFlapping();
    // Every tenant's held alerts free to notify (at most limit), locked.
    std::vector<HeldReleaseRow> lockHeldReleases(int limit, int parentSettleS);
    // Clears the hold and, when it is notified now (an open alert with a policy), starts its escalation;
    // true when it does.
    bool releaseHold(long long alertId, bool notify);
    void markStable(long long alertId);
    // Closed by the system once stable (its condition had recovered).
    void closeSettled(long long alertId);

    // Operator actions on the tenant's alert, guarded: false (or nullopt) when the tenant has no such alert
    // or it is closed (acknowledge: or not OPEN).
    bool acknowledge(const std::string& tenantId, long long alertId, const std::string& actor);
    bool close(const std::string& tenantId, long long alertId, const std::string& actor,
               const std::string& reason);
    // Opens an acknowledged or closed alert again (sql/020); nullopt when it is open, not the tenant's, its
    // rule deleted, or another alert of its rule is open on the device.
    std::optional<ReopenedAlert> reopen(const std::string& tenantId, long long alertId, int parentSettleS);
    // Returns the time silenced until, as PostgreSQL prints it.
    std::optional<std::string> silence(const std::string& tenantId, long long alertId, long long untilMs);
    // To a user of the tenant who is not disabled, or nobody (nullopt); returns the assignee's id or ""
    // (none).
    std::optional<std::string> assign(const std::string& tenantId, long long alertId,
                                      const std::optional<std::string>& userId);
    // Whether the tenant has the alert, closed or not (comments are added to closed ones too).
    bool exists(const std::string& tenantId, long long alertId);

    // Returns the event's id.
    long long addEvent(const AlertEventFields& event);
    // The deliveries the tenant's routing rules ask for the event and, when it follows up (an
    // acknowledgement or closing), to those its escalation paged; each with maxAttempts. A grouping rule's
    // opening joins a group instead, and a follow-up brings its groups' next notices forward.
    Routed route(long long alertId, long long eventId, int maxAttempts, const std::string& consoleUrl,
                 bool followsUp);

  private:
    friend class AlertStore;
    explicit AlertTransaction(PgConnection& conn) : conn_(conn) {}
    PgConnection& conn_;
    std::vector<AlertEventFields> added_;  // the events of this transaction, for AlertStore::onCommitted
};

// Alerts, their history and their deliveries: what the API reads, each in a transaction scoped to the
// tenant(s) (row-level security), and the alert writer's transactions. Changes to alerts go through
// services::AlertService.
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

    // fn inside a transaction scoped to the tenant, on one connection: committed when fn returns true; when
    // it returns false, rolled back and fn run again in a new one, at most `tries` times in all.
    void writeAsTenant(const std::string& tenantId, const std::function<bool(AlertTransaction&)>& fn,
                       int tries = 1);
    // fn inside a transaction scoped to no tenant yet (fn names each alert's with scopeTo); committed when
    // fn returns.
    void writeAcrossTenants(const std::function<void(AlertTransaction&)>& fn);

    // Called after a commit with the events it wrote (the live stream's alert changes). Set before use.
    using EventsCommitted = std::function<void(const std::vector<AlertEventFields>&)>;
    void onCommitted(EventsCommitted committed) { committed_ = std::move(committed); }

  private:
    void committed(const AlertTransaction& tx) const;

    PgPool& pool_;
    EventsCommitted committed_;
};

}  // namespace pulse::storage
