-- The status functions return the changes they made (tenant, device, new status), so that the console's
-- live stream can announce them (services/LiveEvents). Same work as in 004; only the result differs.
DROP FUNCTION pulse.record_devices_seen(bigint[], bigint[]);
DROP FUNCTION pulse.sweep_device_status();

-- Last-seen times from ingest (devices of any tenant); a device coming back is recorded as ONLINE.
CREATE FUNCTION pulse.record_devices_seen(p_ids bigint[], p_ts_ms bigint[])
RETURNS TABLE (tenant_id uuid, device_id bigint, status text)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    WITH seen AS (SELECT * FROM unnest(p_ids, p_ts_ms) AS s(id, ts_ms)),
    old AS (SELECT d.id, d.tenant_id, d.status, to_timestamp(s.ts_ms / 1000.0) AS at
            FROM pulse.devices d JOIN seen s ON s.id = d.id ORDER BY d.id FOR UPDATE OF d),
    upd AS (UPDATE pulse.devices d SET status = 'ONLINE', last_seen_at = greatest(coalesce(d.last_seen_at, o.at), o.at)
            FROM old o WHERE d.id = o.id RETURNING 1),
    hist AS (INSERT INTO pulse.device_status_history (tenant_id, device_id, from_status, to_status, at, reason)
             SELECT tenant_id, id, status, 'ONLINE', at, 'telemetry received' FROM old WHERE status <> 'ONLINE'
             RETURNING tenant_id, device_id)
    SELECT h.tenant_id, h.device_id, 'ONLINE'::text FROM hist h
$$;

-- Devices past their thresholds move to STALE or OFFLINE, each move recorded and returned.
CREATE FUNCTION pulse.sweep_device_status() RETURNS TABLE (tenant_id uuid, device_id bigint, status text)
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
             FROM moved RETURNING tenant_id, device_id, to_status)
    SELECT h.tenant_id, h.device_id, h.to_status FROM hist h
$$;

REVOKE ALL ON FUNCTION pulse.record_devices_seen(bigint[], bigint[]), pulse.sweep_device_status() FROM PUBLIC;
