-- 003: rules, alerts and their history, notification channels, routing rules, and the delivery outbox.
-- An alert change, its event and its deliveries commit in one transaction (the outbox); dispatchers
-- claim deliveries with FOR UPDATE SKIP LOCKED and a lease.

CREATE TABLE pulse.rules (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid NOT NULL REFERENCES pulse.tenants (id),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    type             text NOT NULL CHECK (type ~ '^[a-z][a-z0-9_]*$'),  -- the rule component: threshold, heartbeat
    config           jsonb NOT NULL DEFAULT '{}',                       -- validated against the plugin's schema
    scope_kind       text NOT NULL DEFAULT 'tenant' CHECK (scope_kind IN ('tenant', 'site', 'tag', 'device')),
    scope_site_id    uuid REFERENCES pulse.sites (id),
    scope_tag        text,
    scope_device_id  bigint REFERENCES pulse.devices (id),
    severity         text NOT NULL CHECK (severity IN ('CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO')),
    auto_close       boolean NOT NULL DEFAULT true,
    flap_threshold   integer NOT NULL DEFAULT 3 CHECK (flap_threshold >= 1),   -- more opens than this in
    flap_window_s    integer NOT NULL DEFAULT 600 CHECK (flap_window_s BETWEEN 1 AND 86400),  -- this window: flapping
    enabled          boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz,
    CHECK ((scope_kind = 'site') = (scope_site_id IS NOT NULL)),
    CHECK ((scope_kind = 'tag') = (scope_tag IS NOT NULL)),
    CHECK ((scope_kind = 'device') = (scope_device_id IS NOT NULL))
);
CREATE UNIQUE INDEX rules_name_idx ON pulse.rules (tenant_id, name) WHERE deleted_at IS NULL;

CREATE TABLE pulse.alerts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id        uuid NOT NULL REFERENCES pulse.tenants (id),
    rule_id          uuid NOT NULL REFERENCES pulse.rules (id),
    device_id        bigint NOT NULL REFERENCES pulse.devices (id),
    severity         text NOT NULL CHECK (severity IN ('CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO')),
    status           text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'ACKNOWLEDGED', 'CLOSED')),
    condition        text NOT NULL DEFAULT 'FIRING' CHECK (condition IN ('FIRING', 'CLEARED')),
    flapping         boolean NOT NULL DEFAULT false,
    summary          text NOT NULL DEFAULT '',
    last_value       double precision,
    triggered_at     timestamptz NOT NULL,  -- time of the reading (or tick) that fired it
    opened_at        timestamptz NOT NULL DEFAULT now(),
    changed_at       timestamptz NOT NULL DEFAULT now(),  -- last FIRING/CLEARED change (flapping stability)
    acknowledged_at  timestamptz,
    acknowledged_by  text,
    closed_at        timestamptz,
    closed_by        text,
    close_reason     text,
    silenced_until   timestamptz,
    assignee_id      uuid REFERENCES pulse.users (id),
    CHECK ((status = 'CLOSED') = (closed_at IS NOT NULL))
);
-- One open alert per (device, rule), whatever the application does.
CREATE UNIQUE INDEX alerts_one_open_idx ON pulse.alerts (rule_id, device_id) WHERE status <> 'CLOSED';
CREATE INDEX alerts_tenant_status_idx ON pulse.alerts (tenant_id, status, opened_at DESC);
CREATE INDEX alerts_device_idx ON pulse.alerts (device_id, opened_at DESC);
CREATE INDEX alerts_flapping_idx ON pulse.alerts (changed_at) WHERE flapping AND status <> 'CLOSED';

CREATE TABLE pulse.alert_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES pulse.tenants (id),
    alert_id   bigint NOT NULL REFERENCES pulse.alerts (id),
    kind       text NOT NULL CHECK (kind IN ('OPENED', 'FIRING', 'CLEARED', 'ACKNOWLEDGED', 'SILENCED',
                                             'ASSIGNED', 'COMMENTED', 'CLOSED', 'FLAPPING', 'STABLE',
                                             'NOTIFIED', 'NOTIFY_FAILED')),
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text NOT NULL DEFAULT 'system',
    value      double precision,
    detail     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_events_alert_idx ON pulse.alert_events (alert_id, id);

-- A channel is a sender plugin instance. Fields its schema marks writeOnly are secrets: they live only
-- in `secrets`, encrypted (libsodium secretbox, key outside the database), and read back as "***".
CREATE TABLE pulse.channels (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid NOT NULL REFERENCES pulse.tenants (id),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    type             text NOT NULL CHECK (type ~ '^[a-z][a-z0-9_]*$'),  -- the sender component: webhook, log
    config           jsonb NOT NULL DEFAULT '{}',
    secrets          bytea,
    enabled          boolean NOT NULL DEFAULT true,
    disabled_reason  text NOT NULL DEFAULT '',
    max_concurrency  integer NOT NULL DEFAULT 4 CHECK (max_concurrency BETWEEN 1 AND 64),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);

CREATE TABLE pulse.routing_rules (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL REFERENCES pulse.tenants (id),
    channel_id   uuid NOT NULL REFERENCES pulse.channels (id),
    name         text NOT NULL DEFAULT '',
    severities   text[] NOT NULL DEFAULT '{}',  -- empty: every severity
    rule_types   text[] NOT NULL DEFAULT '{}',  -- empty: every alert type
    site_id      uuid REFERENCES pulse.sites (id),
    tag          text,
    throttle_s   integer NOT NULL DEFAULT 0 CHECK (throttle_s >= 0),  -- one opening notice per rule and device
    enabled      boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX routing_rules_tenant_idx ON pulse.routing_rules (tenant_id);

CREATE TABLE pulse.deliveries (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id         uuid NOT NULL REFERENCES pulse.tenants (id),
    alert_id          bigint NOT NULL REFERENCES pulse.alerts (id),
    event_id          bigint NOT NULL REFERENCES pulse.alert_events (id),
    channel_id        uuid NOT NULL REFERENCES pulse.channels (id),
    routing_rule_id   uuid REFERENCES pulse.routing_rules (id),
    -- The same across retries: Standard Webhooks webhook-id, PagerDuty dedup_key material.
    idempotency_key   text NOT NULL UNIQUE DEFAULT ('msg_' || replace(gen_random_uuid()::text, '-', '')),
    payload           text NOT NULL,
    status            text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DONE', 'DEAD')),
    attempts          integer NOT NULL DEFAULT 0,
    max_attempts      integer NOT NULL CHECK (max_attempts >= 1),
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    lease_owner       text,
    lease_until       timestamptz,
    last_status_code  integer,
    last_error        text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    completed_at      timestamptz
);
CREATE INDEX deliveries_due_idx ON pulse.deliveries (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX deliveries_alert_idx ON pulse.deliveries (alert_id);
CREATE INDEX deliveries_routing_idx ON pulse.deliveries (routing_rule_id, created_at);
CREATE INDEX deliveries_dead_idx ON pulse.deliveries (tenant_id, completed_at) WHERE status = 'DEAD';

CREATE TABLE pulse.delivery_attempts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES pulse.tenants (id),
    delivery_id   bigint NOT NULL REFERENCES pulse.deliveries (id),
    attempt       integer NOT NULL,
    started_at    timestamptz NOT NULL,
    duration_ms   integer NOT NULL,
    outcome       text NOT NULL CHECK (outcome IN ('DELIVERED', 'RETRY', 'FAILED')),
    status_code   integer,
    detail        text NOT NULL DEFAULT '',
    worker        text NOT NULL
);
CREATE INDEX delivery_attempts_delivery_idx ON pulse.delivery_attempts (delivery_id, attempt);
