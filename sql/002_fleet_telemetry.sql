-- 002: sites, devices and their credentials, the metric catalog, telemetry partitioned by day, hourly
-- rollups and device status history. Every tenant-scoped table carries tenant_id.

ALTER TABLE pulse.tenants
    ADD COLUMN default_stale_after_s   integer NOT NULL DEFAULT 300 CHECK (default_stale_after_s > 0),
    ADD COLUMN default_offline_after_s integer NOT NULL DEFAULT 900 CHECK (default_offline_after_s > 0);

CREATE TABLE pulse.sites (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES pulse.tenants (id),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    time_zone   text NOT NULL DEFAULT 'UTC',  -- IANA name, checked by the service against pg_timezone_names
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);

-- A device's name is part of its MQTT topic and username (devices/<tenant slug>/<name>/telemetry).
CREATE TABLE pulse.devices (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id          uuid NOT NULL REFERENCES pulse.tenants (id),
    name               text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$'),
    site_id            uuid REFERENCES pulse.sites (id),
    tags               text[] NOT NULL DEFAULT '{}',
    status             text NOT NULL DEFAULT 'OFFLINE' CHECK (status IN ('ONLINE', 'STALE', 'OFFLINE')),
    last_seen_at       timestamptz,
    stale_after_s      integer CHECK (stale_after_s > 0),    -- NULL: the tenant's default
    offline_after_s    integer CHECK (offline_after_s > 0),
    decommissioned_at  timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);
CREATE INDEX devices_site_idx ON pulse.devices (site_id);
CREATE INDEX devices_tags_idx ON pulse.devices USING gin (tags);

-- Device tokens are 256-bit random values: a SHA-256 is enough to store them (no brute force to slow
-- down), and lets ingest look one up by index. mqtt_hash is the same secret in Mosquitto's
-- password-file format, written out to the broker's password file.
CREATE TABLE pulse.device_credentials (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES pulse.tenants (id),
    device_id     bigint NOT NULL REFERENCES pulse.devices (id),
    token_sha256  bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    token_prefix  text NOT NULL,
    mqtt_hash     text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);
CREATE INDEX device_credentials_device_idx ON pulse.device_credentials (device_id);

CREATE TABLE pulse.metrics (
    id           integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES pulse.tenants (id),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    unit         text NOT NULL DEFAULT '',
    description  text NOT NULL DEFAULT '',
    is_boolean   boolean NOT NULL DEFAULT false,
    last_value   double precision,
    last_ts      timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);

-- Narrow rows, one per reading; daily partitions created ahead and dropped by retention. The unique
-- index makes a redelivered reading (MQTT QoS 1) a no-op and serves per-device range queries.
CREATE TABLE pulse.telemetry (
    tenant_id  uuid NOT NULL,
    device_id  bigint NOT NULL,
    metric_id  integer NOT NULL,
    ts         timestamptz NOT NULL,
    value      double precision NOT NULL
) PARTITION BY RANGE (ts);
CREATE UNIQUE INDEX telemetry_reading_idx ON pulse.telemetry (device_id, metric_id, ts);

CREATE TABLE pulse.telemetry_hourly (
    tenant_id  uuid NOT NULL,
    device_id  bigint NOT NULL,
    metric_id  integer NOT NULL,
    hour       timestamptz NOT NULL,
    min        double precision NOT NULL,
    max        double precision NOT NULL,
    sum        double precision NOT NULL,
    count      bigint NOT NULL,
    PRIMARY KEY (device_id, metric_id, hour)
);
CREATE INDEX telemetry_hourly_hour_idx ON pulse.telemetry_hourly USING brin (hour);

CREATE TABLE pulse.device_status_history (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    uuid NOT NULL,
    device_id    bigint NOT NULL REFERENCES pulse.devices (id),
    from_status  text NOT NULL,
    to_status    text NOT NULL,
    at           timestamptz NOT NULL,
    reason       text NOT NULL DEFAULT ''
);
CREATE INDEX device_status_history_device_idx ON pulse.device_status_history (device_id, at);

-- Partition maintenance runs as the owner (SECURITY DEFINER): the application role creates no tables.
CREATE FUNCTION pulse.ensure_telemetry_partitions(days_back integer, days_ahead integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
DECLARE
    d date;
    created integer := 0;
BEGIN
    IF days_back < 0 OR days_back > 3660 OR days_ahead < 0 OR days_ahead > 366 THEN
        RAISE EXCEPTION 'days_back % or days_ahead % out of range', days_back, days_ahead;
    END IF;
    PERFORM pg_advisory_xact_lock(7152000002);  -- instances maintaining partitions take turns
    FOR d IN SELECT generate_series((now() AT TIME ZONE 'UTC')::date - days_back,
                                    (now() AT TIME ZONE 'UTC')::date + days_ahead, interval '1 day')::date LOOP
        IF to_regclass(format('pulse.telemetry_%s', to_char(d, 'YYYYMMDD'))) IS NULL THEN
            EXECUTE format('CREATE TABLE pulse.%I PARTITION OF pulse.telemetry FOR VALUES FROM (%L) TO (%L)',
                           'telemetry_' || to_char(d, 'YYYYMMDD'), d::timestamp AT TIME ZONE 'UTC',
                           (d + 1)::timestamp AT TIME ZONE 'UTC');
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END $$;

CREATE FUNCTION pulse.drop_expired_telemetry(raw_days integer, rollup_days integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
DECLARE
    part record;
    dropped integer := 0;
    cutoff date := (now() AT TIME ZONE 'UTC')::date - raw_days;
BEGIN
    IF raw_days < 1 OR rollup_days < 1 THEN
        RAISE EXCEPTION 'retention must be at least one day';
    END IF;
    PERFORM pg_advisory_xact_lock(7152000002);
    FOR part IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = 'pulse.telemetry'::regclass AND c.relname ~ '^telemetry_[0-9]{8}$' LOOP
        IF to_date(substr(part.relname, 11), 'YYYYMMDD') < cutoff THEN
            EXECUTE format('DROP TABLE pulse.%I', part.relname);
            dropped := dropped + 1;
        END IF;
    END LOOP;
    DELETE FROM pulse.telemetry_hourly WHERE hour < now() - make_interval(days => rollup_days);
    RETURN dropped;
END $$;

REVOKE ALL ON FUNCTION pulse.ensure_telemetry_partitions(integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION pulse.drop_expired_telemetry(integer, integer) FROM PUBLIC;
SELECT pulse.ensure_telemetry_partitions(1, 7);  -- pulsed extends this to the retention window at start-up
