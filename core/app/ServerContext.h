#pragma once

#include "app/Workers.h"
#include "config/Settings.h"
#include "http/HttpServer.h"
#include "http/PluginRoutes.h"
#include "http/Router.h"
#include "http/api/Api.h"
#include "metrics/MetricsRegistry.h"
#include "net/OutboundHttp.h"
#include "pipeline/IngestPipeline.h"
#include "pipeline/RuleEngine.h"
#include "pipeline/TelemetryWriter.h"
#include "plugins/PluginManager.h"
#include "services/AlertService.h"
#include "services/AuditLog.h"
#include "services/ChannelService.h"
#include "services/DeviceRegistry.h"
#include "services/DeviceStatusTracker.h"
#include "services/HealthService.h"
#include "services/IdentityService.h"
#include "services/LinkSigner.h"
#include "services/LiveEvents.h"
#include "services/OidcVerifier.h"
#include "services/SecretBox.h"
#include "storage/Database.h"
#include "storage/PgPool.h"
#include "workers/Escalator.h"
#include "workers/NotificationDispatcher.h"
#include "workers/WakeSignal.h"

#include <chrono>
#include <functional>
#include <memory>

namespace pulse::app {

// What the subsystems share. Owned by the application; subsystems fill their parts, and register what runs
// on its own with workers.
struct ServerContext {
    config::Settings settings;
    metrics::MetricsRegistry metrics;
    services::HealthService health;
    // The two pools (docs/architecture.md "Database"): Poco Data sessions for ordinary queries, libpq
    // connections for the REST API's queries and the channels.
    std::unique_ptr<storage::Database> db;
    std::unique_ptr<storage::PgPool> pgPool;
    // Created before the plugins, which mount their routes on it; served by the HTTP subsystem.
    std::shared_ptr<http::Router> router = std::make_shared<http::Router>();
    std::unique_ptr<http::PluginRoutes> pluginRoutes;
    std::unique_ptr<services::DeviceRegistry> registry;
    std::unique_ptr<services::DeviceStatusTracker> deviceStatus;
    std::unique_ptr<pipeline::TelemetryWriter> writer;
    std::unique_ptr<pipeline::IngestPipeline> ingest;
    std::function<void()> syncBroker;  // rewrites the broker's password file now (empty: not managed)
    std::unique_ptr<plugins::PluginManager> plugins;
    // Rules, alerts and notifications.
    std::unique_ptr<net::OutboundHttp> outbound;  // senders' HTTP, behind the egress guard
    services::SecretBox secrets;
    services::LinkSigner links;  // signed URLs (calendar feeds), keyed from the secrets key
    std::shared_ptr<workers::WakeSignal> deliveriesWake = std::make_shared<workers::WakeSignal>();
    // An alert opened with an escalation policy: its first level is due.
    std::shared_ptr<workers::WakeSignal> escalationsWake = std::make_shared<workers::WakeSignal>();
    // What the console's live streams carry: alert events, device status changes, watched readings.
    std::unique_ptr<services::LiveEvents> live;
    std::unique_ptr<services::AlertService> alerts;
    std::unique_ptr<pipeline::RuleEngine> rules;
    std::unique_ptr<services::ChannelService> channels;
    std::unique_ptr<workers::NotificationDispatcher> dispatcher;
    std::unique_ptr<workers::Escalator> escalator;
    // The REST API.
    std::unique_ptr<services::IdentityService> identity;
    std::unique_ptr<services::AuditLog> audit;
    std::unique_ptr<services::OidcVerifier> oidc;  // when oidc.issuer is set
    std::unique_ptr<http::Api> api;
    std::unique_ptr<http::HttpServer> server;
    std::chrono::steady_clock::time_point startedAt = std::chrono::steady_clock::now();
    // Last, so that it is destroyed first: every worker stops before what it uses goes away.
    Workers workers;
};

}  // namespace pulse::app
