-- 004: tenant isolation in the database (row-level security).
-- Every table with a tenant_id column gets RLS enabled and forced and two policies:
--   tenant_isolation   (everyone): rows of the tenants set for the current transaction, for reading and
--                      for writing (USING and WITH CHECK), set with set_config('pulse.tenants', '{..}', true);
--                      nothing set means nothing visible and nothing writable;
--   owner_maintenance  (the owner only): migrations and the SECURITY DEFINER functions below, which carry the
--                      few operations that span tenants by design (device authentication, the broker's account
--                      list, status sweeps, rule loading, delivery claims). pulsed's own role owns nothing and
--                      can reach other tenants' rows only through those functions.

-- The tenants of the current transaction. The policies call it as (SELECT pulse.current_tenants())::uuid[] so that it
-- runs once per statement, not once per row; a malformed setting fails the statement (closed, not open).
CREATE FUNCTION pulse.current_tenants() RETURNS uuid[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(nullif(pg_catalog.current_setting('pulse.tenants', true), '')::pg_catalog.uuid[],
                    '{}'::pg_catalog.uuid[])
$$;

-- Puts one table under the two policies; later migrations call it for each new tenant-scoped table.
CREATE FUNCTION pulse_meta.isolate_tenant_table(target regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    owner_role name := (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = target);
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', target);
    EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %s', target);
    EXECUTE format('CREATE POLICY tenant_isolation ON %s USING (tenant_id = ANY ((SELECT pulse.current_tenants())::uuid[])) '
                   'WITH CHECK (tenant_id = ANY ((SELECT pulse.current_tenants())::uuid[]))', target);
    EXECUTE format('DROP POLICY IF EXISTS owner_maintenance ON %s', target);
    EXECUTE format('CREATE POLICY owner_maintenance ON %s TO %I USING (true) WITH CHECK (true)', target, owner_role);
END $$;
REVOKE ALL ON FUNCTION pulse_meta.isolate_tenant_table(regclass) FROM PUBLIC;

DO $$
DECLARE
    t regclass;
BEGIN
    FOR t IN SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
             WHERE n.nspname = 'pulse' AND c.relkind IN ('r', 'p') LOOP
        PERFORM pulse_meta.isolate_tenant_table(t);
    END LOOP;
END $$;

-- New telemetry partitions get the same policies as the rest.
CREATE OR REPLACE FUNCTION pulse.ensure_telemetry_partitions(days_back integer, days_ahead integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
DECLARE
    d date;
    part text;
    created integer := 0;
BEGIN
    IF days_back < 0 OR days_back > 3660 OR days_ahead < 0 OR days_ahead > 366 THEN
        RAISE EXCEPTION 'days_back % or days_ahead % out of range', days_back, days_ahead;
    END IF;
    PERFORM pg_advisory_xact_lock(7152000002);  -- instances maintaining partitions take turns
    FOR d IN SELECT generate_series((now() AT TIME ZONE 'UTC')::date - days_back,
                                    (now() AT TIME ZONE 'UTC')::date + days_ahead, interval '1 day')::date LOOP
        part := 'telemetry_' || to_char(d, 'YYYYMMDD');
        IF to_regclass('pulse.' || part) IS NULL THEN
            EXECUTE format('CREATE TABLE pulse.%I PARTITION OF pulse.telemetry FOR VALUES FROM (%L) TO (%L)',
                           part, d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
            PERFORM pulse_meta.isolate_tenant_table(format('pulse.%I', part)::regclass);
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END $$;
REVOKE ALL ON FUNCTION pulse.ensure_telemetry_partitions(integer, integer) FROM PUBLIC;

-- Device authentication: a token (its SHA-256) or an MQTT identity to the device and its tenant. These run
-- before any tenant is known, which is why they span tenants.
CREATE FUNCTION pulse.device_by_token(p_token_sha256 bytea)
RETURNS TABLE (tenant_id text, tenant_slug text, device_id bigint, device_name text, decommissioned boolean,
               site_id text, tags text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    SELECT t.id::text, t.slug, d.id, d.name, d.decommissioned_at IS NOT NULL, coalesce(d.site_id::text, ''),
           array_to_string(d.tags, E'\x1f')
    FROM pulse.device_credentials c JOIN pulse.devices d ON d.id = c.device_id AND d.tenant_id = c.tenant_id
    JOIN pulse.tenants t ON t.id = d.tenant_id
    WHERE c.token_sha256 = p_token_sha256 AND c.revoked_at IS NULL
    LIMIT 1
$$;

CREATE FUNCTION pulse.device_by_name(p_tenant_slug text, p_device_name text)
RETURNS TABLE (tenant_id text, tenant_slug text, device_id bigint, device_name text, decommissioned boolean,
               site_id text, tags text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    SELECT t.id::text, t.slug, d.id, d.name, d.decommissioned_at IS NOT NULL, coalesce(d.site_id::text, ''),
           array_to_string(d.tags, E'\x1f')
    FROM pulse.devices d JOIN pulse.tenants t ON t.id = d.tenant_id
    WHERE t.slug = p_tenant_slug AND d.name = p_device_name
    LIMIT 1
$$;

-- The broker's device accounts (user name tenant/device and the password hash), for the password file.
CREATE FUNCTION pulse.broker_accounts()
RETURNS TABLE (username text, mqtt_hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    SELECT t.slug || '/' || d.name, c.mqtt_hash FROM pulse.device_credentials c
    JOIN pulse.devices d ON d.id = c.device_id AND d.tenant_id = c.tenant_id JOIN pulse.tenants t ON t.id = d.tenant_id
    WHERE c.revoked_at IS NULL AND d.decommissioned_at IS NULL ORDER BY 1
$$;

-- Last-seen times from ingest (devices of any tenant); a device coming back is recorded as ONLINE.
CREATE FUNCTION pulse.record_devices_seen(p_ids bigint[], p_ts_ms bigint[]) RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    WITH seen AS (SELECT * FROM unnest(p_ids, p_ts_ms) AS s(id, ts_ms)),
    old AS (SELECT d.id, d.tenant_id, d.status, to_timestamp(s.ts_ms / 1000.0) AS at
            FROM pulse.devices d JOIN seen s ON s.id = d.id ORDER BY d.id FOR UPDATE OF d),
    upd AS (UPDATE pulse.devices d SET status = 'ONLINE', last_seen_at = greatest(coalesce(d.last_seen_at, o.at), o.at)
            FROM old o WHERE d.id = o.id RETURNING 1),
    hist AS (INSERT INTO pulse.device_status_history (tenant_id, device_id, from_status, to_status, at, reason)
             SELECT tenant_id, id, status, 'ONLINE', at, 'telemetry received' FROM old WHERE status <> 'ONLINE'
             RETURNING 1)
    SELECT (SELECT count(*) FROM upd)::integer
$$;

-- Devices past their thresholds move to STALE or OFFLINE, each move recorded; returns how many moved.
CREATE FUNCTION pulse.sweep_device_status() RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    WITH due AS (
        SELECT d.id, d.tenant_id, d.status AS old,
               CASE WHEN d.last_seen_at IS NULL
                         OR now() - d.last_seen_at > make_interval(secs => coalesce(d.offline_after_s, t.default_offline_after_s))
                    THEN 'OFFLINE'
                    WHEN now() - d.last_seen_at > make_interval(secs => coalesce(d.stale_after_s, t.default_stale_after_s))
                    THEN 'STALE' ELSE 'ONLINE' END AS new,
               d.last_seen_at
        FROM pulse.devices d JOIN pulse.tenants t ON t.id = d.tenant_id
        WHERE d.status <> 'OFFLINE' FOR UPDATE OF d SKIP LOCKED),
    moved AS (SELECT * FROM due WHERE new <> old AND new <> 'ONLINE'),
    upd AS (UPDATE pulse.devices d SET status = m.new FROM moved m WHERE d.id = m.id),
    hist AS (INSERT INTO pulse.device_status_history (tenant_id, device_id, from_status, to_status, at, reason)
             SELECT tenant_id, id, old, new, now(), 'no telemetry since ' || coalesce(last_seen_at::text, 'ever')
             FROM moved RETURNING 1)
    SELECT count(*)::integer FROM hist
$$;

-- The rules every instance evaluates (all tenants), and a cheap version stamp to poll for changes.
CREATE FUNCTION pulse.active_rules()
RETURNS TABLE (id text, tenant_id text, tenant_slug text, name text, type text, config text, scope_kind text,
               scope_site_id text, scope_tag text, scope_device_id bigint, severity text, auto_close boolean,
               flap_threshold integer, flap_window_s integer, updated_at text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    SELECT r.id::text, r.tenant_id::text, t.slug, r.name, r.type, r.config::text, r.scope_kind,
           coalesce(r.scope_site_id::text, ''), coalesce(r.scope_tag, ''), coalesce(r.scope_device_id, 0),
           r.severity, r.auto_close, r.flap_threshold, r.flap_window_s, r.updated_at::text
    FROM pulse.rules r JOIN pulse.tenants t ON t.id = r.tenant_id WHERE r.deleted_at IS NULL AND r.enabled
$$;

CREATE FUNCTION pulse.rules_version() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    SELECT count(*) FILTER (WHERE deleted_at IS NULL AND enabled)::text || '/' || coalesce(max(updated_at)::text, '')
    FROM pulse.rules
$$;

-- A dispatcher worker leases the next due delivery of any tenant (SKIP LOCKED: workers never share one).
CREATE FUNCTION pulse.claim_delivery(p_worker text, p_lease_s integer, p_excluded_channels uuid[])
RETURNS TABLE (id bigint, tenant_id text, alert_id bigint, idempotency_key text, payload text, attempts integer,
               max_attempts integer, channel_id text, channel_name text, channel_type text, channel_config text,
               channel_secrets text, channel_updated_at text, channel_max_concurrency integer,
               channel_enabled boolean, channel_disabled_reason text)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    WITH c AS (
        SELECT d.id FROM pulse.deliveries d
        WHERE d.status = 'PENDING' AND d.next_attempt_at <= now()
          AND (d.lease_until IS NULL OR d.lease_until < now())
          AND NOT (d.channel_id = ANY (p_excluded_channels))
        ORDER BY d.next_attempt_at
        LIMIT 1
        FOR UPDATE OF d SKIP LOCKED)
    UPDATE pulse.deliveries d
    SET lease_owner = p_worker, lease_until = now() + make_interval(secs => p_lease_s), attempts = d.attempts + 1
    FROM c, pulse.channels ch
    WHERE d.id = c.id AND ch.id = d.channel_id AND ch.tenant_id = d.tenant_id
    RETURNING d.id, d.tenant_id::text, d.alert_id, d.idempotency_key, d.payload::text, d.attempts, d.max_attempts,
              ch.id::text, ch.name, ch.type, ch.config::text, encode(ch.secrets, 'hex'), ch.updated_at::text,
              ch.max_concurrency, ch.enabled, ch.disabled_reason
$$;

-- Flapping alerts of any tenant whose rule's window has passed quietly, locked for the caller's transaction.
CREATE FUNCTION pulse.settled_flapping_alerts()
RETURNS TABLE (id bigint, tenant_id text, condition text, auto_close boolean)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    SELECT a.id, a.tenant_id::text, a.condition, r.auto_close FROM pulse.alerts a
    JOIN pulse.rules r ON r.id = a.rule_id AND r.tenant_id = a.tenant_id
    WHERE a.flapping AND a.status <> 'CLOSED' AND a.changed_at < now() - make_interval(secs => r.flap_window_s)
    FOR UPDATE OF a SKIP LOCKED
$$;

REVOKE ALL ON FUNCTION pulse.device_by_token(bytea), pulse.device_by_name(text, text), pulse.broker_accounts(),
    pulse.record_devices_seen(bigint[], bigint[]), pulse.sweep_device_status(), pulse.active_rules(),
    pulse.rules_version(), pulse.claim_delivery(text, integer, uuid[]), pulse.settled_flapping_alerts() FROM PUBLIC;
