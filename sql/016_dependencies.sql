-- 016: device dependencies. A device may have a parent (its gateway). While a parent, or a parent's parent,
-- is OFFLINE or has an open heartbeat alert (and for a settling time after it recovers, so that children
-- reconnecting behind it are not paged one by one), its descendants' alerts are recorded as suppressed
-- (which parent, and why) and held like an alert in maintenance: not notified, not escalated. When the
-- parent is well again, the children still in trouble notify. Cycles are refused where they would be made.

ALTER TABLE pulse.devices
    ADD COLUMN parent_id bigint REFERENCES pulse.devices (id) ON DELETE SET NULL,
    ADD CONSTRAINT devices_parent_not_self CHECK (parent_id <> id);
CREATE INDEX devices_parent_idx ON pulse.devices (parent_id) WHERE parent_id IS NOT NULL;

-- A parent is a device of the same tenant, neither the device itself nor one of its descendants, and no
-- device ends up below more than 10 ancestors (SQLSTATE PU001, which the API answers as a problem naming
-- parent_id). Changes of a tenant's parents take turns (an advisory lock), so that two changes made at once
-- cannot close a cycle that neither saw.
CREATE FUNCTION pulse_meta.check_device_parent() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ancestors integer;
    below integer;
    reaches boolean;
BEGIN
    IF NEW.parent_id IS NULL OR (TG_OP = 'UPDATE' AND NEW.parent_id IS NOT DISTINCT FROM OLD.parent_id) THEN
        RETURN NEW;
    END IF;
    IF NEW.parent_id = NEW.id THEN
        RAISE EXCEPTION 'a device cannot be its own parent' USING ERRCODE = 'PU001';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('pulse.device_parents ' || NEW.tenant_id::text, 0));
    IF NOT EXISTS (SELECT 1 FROM pulse.devices p WHERE p.id = NEW.parent_id AND p.tenant_id = NEW.tenant_id) THEN
        RAISE EXCEPTION 'no such device: %', NEW.parent_id USING ERRCODE = 'PU001';
    END IF;
    WITH RECURSIVE up (id, depth) AS (
        SELECT NEW.parent_id, 1
        UNION ALL
        SELECT d.parent_id, up.depth + 1 FROM pulse.devices d JOIN up ON d.id = up.id
        WHERE d.parent_id IS NOT NULL AND up.depth <= 11)
    SELECT bool_or(up.id = NEW.id), max(up.depth) INTO reaches, ancestors FROM up;
    IF reaches THEN
        RAISE EXCEPTION 'device % is below device %: making it the parent would make a cycle',
            NEW.parent_id, NEW.id USING ERRCODE = 'PU001';
    END IF;
    WITH RECURSIVE down (id, depth) AS (
        SELECT NEW.id, 0
        UNION ALL
        SELECT d.id, down.depth + 1 FROM pulse.devices d JOIN down ON d.parent_id = down.id
        WHERE down.depth <= 11)
    SELECT max(depth) INTO below FROM down;
    IF ancestors + below > 10 THEN
        RAISE EXCEPTION 'a device can be below at most 10 parents (this change makes %)', ancestors + below
            USING ERRCODE = 'PU001';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER devices_check_parent BEFORE INSERT OR UPDATE OF parent_id ON pulse.devices
    FOR EACH ROW EXECUTE FUNCTION pulse_meta.check_device_parent();

-- The hold of 015 now has two causes: the column says what it is.
ALTER TABLE pulse.alerts RENAME COLUMN maintenance_held TO notice_held;
ALTER INDEX pulse.alerts_maintenance_held_idx RENAME TO alerts_notice_held_idx;
ALTER TABLE pulse.alerts
    ADD COLUMN suppressed_by bigint REFERENCES pulse.devices (id) ON DELETE SET NULL,
    ADD COLUMN suppression_reason text
        CHECK (suppression_reason IN ('parent offline', 'parent heartbeat alert', 'parent recovering'));

ALTER TABLE pulse.alert_events DROP CONSTRAINT alert_events_kind_check;
ALTER TABLE pulse.alert_events ADD CONSTRAINT alert_events_kind_check
    CHECK (kind IN ('OPENED', 'FIRING', 'CLEARED', 'ACKNOWLEDGED', 'SILENCED', 'ASSIGNED', 'COMMENTED', 'CLOSED',
                    'FLAPPING', 'STABLE', 'NOTIFIED', 'NOTIFY_FAILED', 'REQUEUED', 'ESCALATED', 'MAINTENANCE_ENDED',
                    'PARENT_RECOVERED'));

-- The nearest ancestor of the device (not decommissioned) in trouble at p_at, and why: OFFLINE (a device
-- never seen is not an outage), a heartbeat alert firing, or either of them ended less than p_settle_s ago
-- (a heartbeat alert closed, or cleared but left open by a rule without auto-close).
-- No row: every ancestor is well. Walks at most 10 parents up (the trigger above keeps chains that short).
CREATE FUNCTION pulse.parent_trouble(p_device bigint, p_at timestamptz, p_settle_s integer)
RETURNS TABLE (parent_id bigint, reason text)
LANGUAGE sql STABLE SET search_path = pulse, pg_temp AS $$
    WITH RECURSIVE up (id, depth) AS (
        SELECT d.parent_id, 1 FROM pulse.devices d WHERE d.id = p_device AND d.parent_id IS NOT NULL
        UNION ALL
        SELECT d.parent_id, up.depth + 1 FROM pulse.devices d JOIN up ON d.id = up.id
        WHERE d.parent_id IS NOT NULL AND up.depth < 10)
    SELECT p.id, t.reason
    FROM up
    JOIN pulse.devices p ON p.id = up.id AND p.decommissioned_at IS NULL
    CROSS JOIN LATERAL (SELECT CASE
        WHEN p.status = 'OFFLINE' AND p.last_seen_at IS NOT NULL THEN 'parent offline'
        WHEN EXISTS (SELECT 1 FROM pulse.alerts a JOIN pulse.rules r ON r.id = a.rule_id
                     WHERE a.device_id = p.id AND a.status <> 'CLOSED' AND a.condition = 'FIRING'
                       AND r.type = 'heartbeat')
            THEN 'parent heartbeat alert'
        WHEN p_settle_s > 0 AND (
                EXISTS (SELECT 1 FROM pulse.device_status_history h
                        WHERE h.device_id = p.id AND h.from_status = 'OFFLINE'
                          AND h.at > p_at - make_interval(secs => p_settle_s))
                OR EXISTS (SELECT 1 FROM pulse.alerts a JOIN pulse.rules r ON r.id = a.rule_id
                           WHERE a.device_id = p.id AND r.type = 'heartbeat'
                             AND (a.closed_at > p_at - make_interval(secs => p_settle_s)
                                  OR (a.status <> 'CLOSED' AND a.condition = 'CLEARED'
                                      AND a.changed_at > p_at - make_interval(secs => p_settle_s)))))
            THEN 'parent recovering'
        END AS reason) t
    WHERE t.reason IS NOT NULL
    ORDER BY up.depth LIMIT 1
$$;

-- 015's releases, for either cause: held alerts whose window is over and whose parents are well, every
-- tenant's, locked for the caller's transaction (SKIP LOCKED: instances share the work), with the opening
-- event to notify now, the event that says why (PARENT_RECOVERED when a parent held it), and the alert's
-- condition (a child notifies only while still in trouble).
DROP FUNCTION pulse.maintenance_releases(timestamptz, integer);
CREATE FUNCTION pulse.held_releases(p_now timestamptz, p_limit integer, p_settle_s integer)
RETURNS TABLE (alert_id bigint, tenant_id text, status text, condition text, opened_event_id bigint,
               released_by text)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    SELECT a.id, a.tenant_id::text, a.status, a.condition,
           (SELECT e.id FROM pulse.alert_events e WHERE e.alert_id = a.id AND e.kind = 'OPENED' ORDER BY e.id LIMIT 1),
           CASE WHEN a.suppression_reason IS NOT NULL THEN 'PARENT_RECOVERED' ELSE 'MAINTENANCE_ENDED' END
    FROM pulse.alerts a
    WHERE a.notice_held AND pulse.maintenance_window_for(a.tenant_id, a.device_id, p_now) IS NULL
      AND NOT EXISTS (SELECT 1 FROM pulse.parent_trouble(a.device_id, p_now, p_settle_s))
      -- Held by a parent, open, its condition cleared (a rule that does not close its alerts): it stays
      -- held, and notifies once it fires again.
      AND NOT (a.suppression_reason IS NOT NULL AND a.status = 'OPEN' AND a.condition = 'CLEARED')
    ORDER BY a.id LIMIT p_limit
    FOR UPDATE OF a SKIP LOCKED
$$;
REVOKE ALL ON FUNCTION pulse.held_releases(timestamptz, integer, integer) FROM PUBLIC;

-- A due level also waits while a parent is in trouble (an alert that opened before its parent failed).
CREATE OR REPLACE FUNCTION pulse.escalation_deferred_until(p_alert bigint, p_now timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE SET search_path = pulse, pg_temp AS $$
    SELECT CASE WHEN a.silenced_until > p_now THEN a.silenced_until
                WHEN a.flapping OR pulse.maintenance_window_for(a.tenant_id, a.device_id, p_now) IS NOT NULL
                     OR EXISTS (SELECT 1 FROM pulse.parent_trouble(a.device_id, p_now, 0))
                    THEN p_now + interval '60 seconds' END
    FROM pulse.alerts a WHERE a.id = p_alert
$$;
