-- 015: maintenance windows. During one, a device's alerts are still recorded (and shown as in maintenance)
-- but nothing is notified or escalated: an alert that opens in maintenance holds its opening's notification
-- (maintenance_held) and its escalation; if it closes before the window ends, no recovery is sent either
-- (its opening reached nobody, and what follows an opening goes only where the opening went); if it is still
-- open when the window ends, its opening is notified then and its escalation starts. An alert already
-- notified before the window keeps its receivers informed of its acknowledgement and closing, so that an
-- incident opened elsewhere is not left open there; its escalation waits for the window to end.

CREATE TABLE pulse.maintenance_windows (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id         uuid NOT NULL REFERENCES pulse.tenants (id),
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description       text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    time_zone         text NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
    recurrence        text NOT NULL CHECK (recurrence IN ('once', 'daily', 'weekly', 'monthly')),
    starts_at         timestamptz,  -- once
    ends_at           timestamptz,
    start_time        time,         -- recurring: each occurrence starts at this local time ...
    duration_minutes  integer CHECK (duration_minutes BETWEEN 1 AND 44640),  -- ... and lasts this long
    days              integer[],    -- weekly: ISO weekdays 1..7; monthly: days of the month 1..31
    valid_from        date,         -- recurring: the first local day an occurrence may start on
    valid_until       date,         -- and the last (NULL: no end)
    scope             text NOT NULL CHECK (scope IN ('tenant', 'site', 'devices', 'tag')),
    site_id           uuid REFERENCES pulse.sites (id) ON DELETE CASCADE,
    device_ids        bigint[],
    tag               text CHECK (length(tag) BETWEEN 1 AND 64),
    enabled           boolean NOT NULL DEFAULT true,
    created_by        text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name),
    CHECK ((recurrence = 'once') = (starts_at IS NOT NULL AND ends_at IS NOT NULL)),
    CHECK (recurrence = 'once' OR (start_time IS NOT NULL AND duration_minutes IS NOT NULL AND valid_from IS NOT NULL)),
    CHECK (ends_at IS NULL OR ends_at > starts_at),
    CHECK ((recurrence IN ('weekly', 'monthly')) = (days IS NOT NULL AND cardinality(days) > 0)),
    CHECK ((scope = 'site') = (site_id IS NOT NULL)),
    CHECK ((scope = 'devices') = (device_ids IS NOT NULL AND cardinality(device_ids) BETWEEN 1 AND 1000)),
    CHECK ((scope = 'tag') = (tag IS NOT NULL))
);
CREATE INDEX maintenance_windows_tenant_idx ON pulse.maintenance_windows (tenant_id) WHERE enabled;

SELECT pulse_meta.isolate_tenant_table('pulse.maintenance_windows'::regclass);

-- The window an alert opened in (kept when the window is deleted: NULL then), and whether its opening's
-- notification is still held.
ALTER TABLE pulse.alerts
    ADD COLUMN maintenance_window_id uuid REFERENCES pulse.maintenance_windows (id) ON DELETE SET NULL,
    ADD COLUMN maintenance_held boolean NOT NULL DEFAULT false;
CREATE INDEX alerts_maintenance_held_idx ON pulse.alerts (id) WHERE maintenance_held;

ALTER TABLE pulse.alert_events DROP CONSTRAINT alert_events_kind_check;
ALTER TABLE pulse.alert_events ADD CONSTRAINT alert_events_kind_check
    CHECK (kind IN ('OPENED', 'FIRING', 'CLEARED', 'ACKNOWLEDGED', 'SILENCED', 'ASSIGNED', 'COMMENTED', 'CLOSED',
                    'FLAPPING', 'STABLE', 'NOTIFIED', 'NOTIFY_FAILED', 'REQUEUED', 'ESCALATED', 'MAINTENANCE_ENDED'));

-- Whether a window covers an instant. A recurring occurrence starts on a local day the recurrence names
-- (every day; the ISO weekdays; the days of the month, so a "31" skips shorter months) at start_time, read
-- like a schedule's handoff (pulse.local_instant: a skipped time with the offset before the change, a
-- repeated one at its first occurrence), and lasts duration_minutes of real time.
CREATE FUNCTION pulse.maintenance_covers(w pulse.maintenance_windows, p_at timestamptz) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pulse, pg_temp AS $$
    SELECT CASE WHEN w.recurrence = 'once' THEN w.starts_at <= p_at AND p_at < w.ends_at
    ELSE EXISTS (
        SELECT 1
        FROM generate_series(((p_at AT TIME ZONE w.time_zone)::date - (w.duration_minutes / 1440 + 1))::timestamp,
                             (p_at AT TIME ZONE w.time_zone)::date::timestamp, interval '1 day') AS d
        CROSS JOIN LATERAL (SELECT pulse.local_instant(d::date + w.start_time, w.time_zone) AS opens) o
        WHERE d::date >= w.valid_from AND (w.valid_until IS NULL OR d::date <= w.valid_until)
          AND CASE w.recurrence WHEN 'daily' THEN true
                                WHEN 'weekly' THEN extract(isodow FROM d)::integer = ANY (w.days)
                                ELSE extract(day FROM d)::integer = ANY (w.days) END
          AND o.opens <= p_at AND p_at < o.opens + make_interval(mins => w.duration_minutes))
    END
$$;

-- The enabled window of the tenant covering the device at p_at (its scope: the tenant, the device's site,
-- the device, or one of its tags), or NULL.
CREATE FUNCTION pulse.maintenance_window_for(p_tenant uuid, p_device bigint, p_at timestamptz) RETURNS uuid
LANGUAGE sql STABLE SET search_path = pulse, pg_temp AS $$
    SELECT w.id FROM pulse.maintenance_windows w
    JOIN pulse.devices d ON d.id = p_device AND d.tenant_id = p_tenant
    WHERE w.tenant_id = p_tenant AND w.enabled
      AND CASE w.scope WHEN 'tenant' THEN true
                       WHEN 'site' THEN d.site_id = w.site_id
                       WHEN 'devices' THEN d.id = ANY (w.device_ids)
                       ELSE w.tag = ANY (d.tags) END
      AND pulse.maintenance_covers(w, p_at)
    ORDER BY w.created_at, w.id LIMIT 1
$$;

-- Every tenant's held alerts whose window is over (ended, disabled, deleted, or the device out of its
-- scope), locked for the caller's transaction (SKIP LOCKED: instances share the work), with the opening
-- event to notify now.
CREATE FUNCTION pulse.maintenance_releases(p_now timestamptz, p_limit integer)
RETURNS TABLE (alert_id bigint, tenant_id text, status text, opened_event_id bigint)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    SELECT a.id, a.tenant_id::text, a.status,
           (SELECT e.id FROM pulse.alert_events e WHERE e.alert_id = a.id AND e.kind = 'OPENED' ORDER BY e.id LIMIT 1)
    FROM pulse.alerts a
    WHERE a.maintenance_held AND pulse.maintenance_window_for(a.tenant_id, a.device_id, p_now) IS NULL
    ORDER BY a.id LIMIT p_limit
    FOR UPDATE OF a SKIP LOCKED
$$;
REVOKE ALL ON FUNCTION pulse.maintenance_releases(timestamptz, integer) FROM PUBLIC;

-- When an open alert's due level must wait, and until when (NULL: it fires now): a silenced alert until its
-- silence ends; a flapping one, or one whose device is in maintenance, a minute later. Later kinds of
-- suppression add their case here, and the escalator below stays as it is.
CREATE FUNCTION pulse.escalation_deferred_until(p_alert bigint, p_now timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE SET search_path = pulse, pg_temp AS $$
    SELECT CASE WHEN a.silenced_until > p_now THEN a.silenced_until
                WHEN a.flapping OR pulse.maintenance_window_for(a.tenant_id, a.device_id, p_now) IS NOT NULL
                    THEN p_now + interval '60 seconds' END
    FROM pulse.alerts a WHERE a.id = p_alert
$$;

-- The escalator of 013, asking escalation_deferred_until whether a due level waits (maintenance too, now).
CREATE OR REPLACE FUNCTION pulse.fire_due_escalations(p_now timestamptz, p_limit integer, p_max_attempts integer,
                                                      p_console text)
RETURNS TABLE (alert_id bigint, tenant_id text, level integer, repeat integer, due_at text, deliveries integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
DECLARE
    a record;
    levels integer;
    repeats integer;
    policy_name text;
    fired integer;
    delay integer;
    event_id bigint;
    notice jsonb;
    on_call jsonb;
    deferred timestamptz;
    created integer;
    more integer;
BEGIN
    FOR a IN SELECT x.id, x.tenant_id, x.status, x.escalation_policy_id,
                    x.escalation_level, x.escalation_repeat, x.next_escalation_at
             FROM pulse.alerts x WHERE x.next_escalation_at <= p_now
             ORDER BY x.next_escalation_at LIMIT p_limit FOR UPDATE OF x SKIP LOCKED LOOP
        SELECT p.name, p.repeat_count, (SELECT count(*) FROM pulse.escalation_levels l WHERE l.policy_id = p.id)
        INTO policy_name, repeats, levels
        FROM pulse.escalation_policies p WHERE p.id = a.escalation_policy_id AND p.tenant_id = a.tenant_id;
        IF a.status <> 'OPEN' OR policy_name IS NULL OR levels = 0 THEN
            UPDATE pulse.alerts SET next_escalation_at = NULL WHERE id = a.id;
            CONTINUE;
        END IF;
        deferred := pulse.escalation_deferred_until(a.id, p_now);
        IF deferred IS NOT NULL THEN
            UPDATE pulse.alerts SET next_escalation_at = deferred WHERE id = a.id;
            CONTINUE;
        END IF;
        -- A policy edited to fewer levels meanwhile: its last level fires.
        fired := least(a.escalation_level, levels);
        SELECT l.delay_s INTO delay FROM pulse.escalation_levels l
        WHERE l.policy_id = a.escalation_policy_id AND l.level = fired;
        SELECT coalesce(jsonb_agg(jsonb_build_object('schedule_id', t.schedule_id, 'schedule', s.name,
                                                     'user_id', pulse.schedule_on_call(t.schedule_id, p_now,
                                                         CASE WHEN t.next_on_repeat THEN a.escalation_repeat
                                                              ELSE 0 END)) ORDER BY t.id), '[]'::jsonb)
        INTO on_call
        FROM pulse.escalation_targets t JOIN pulse.schedules s ON s.id = t.schedule_id AND s.tenant_id = a.tenant_id
        WHERE t.policy_id = a.escalation_policy_id AND t.level = fired;
        INSERT INTO pulse.alert_events (tenant_id, alert_id, kind, at, detail)
        VALUES (a.tenant_id, a.id, 'ESCALATED', clock_timestamp(),
                jsonb_build_object('policy_id', a.escalation_policy_id, 'policy', policy_name, 'level', fired,
                                   'levels', levels, 'repeat', a.escalation_repeat, 'due_at', a.next_escalation_at,
                                   'on_call', on_call))
        RETURNING id INTO event_id;
        notice := pulse.alert_notice(a.id, event_id, p_console) || jsonb_build_object('escalation',
            jsonb_build_object('policy', jsonb_build_object('id', a.escalation_policy_id, 'name', policy_name),
                               'level', fired, 'levels', levels, 'repeat', a.escalation_repeat));
        INSERT INTO pulse.deliveries (tenant_id, alert_id, event_id, channel_id, idempotency_key, payload,
                                      max_attempts, escalation_level, escalation_repeat)
        SELECT a.tenant_id, a.id, event_id, c.id, format('esc_%s_%s_%s_channel_%s', a.id, fired,
               a.escalation_repeat, c.id), notice::text, p_max_attempts, fired, a.escalation_repeat
        FROM pulse.escalation_targets t
        JOIN pulse.channels c ON c.id = t.channel_id AND c.tenant_id = a.tenant_id AND c.enabled
        WHERE t.policy_id = a.escalation_policy_id AND t.level = fired
        ON CONFLICT (idempotency_key) DO NOTHING;
        GET DIAGNOSTICS created = ROW_COUNT;
        -- Users named by the level and those its schedules put on call, each once (a named user first).
        INSERT INTO pulse.deliveries (tenant_id, alert_id, event_id, channel_id, idempotency_key, payload,
                                      max_attempts, escalation_level, escalation_repeat, contact_method_id)
        SELECT a.tenant_id, a.id, event_id, c.id, format('esc_%s_%s_%s_contact_%s', a.id, fired,
               a.escalation_repeat, m.id),
               (notice || jsonb_build_object('recipient', jsonb_build_object(
                   'user_id', u.id, 'name', u.display_name, 'contact_method_id', m.id, 'kind', m.kind,
                   'email', m.address, 'schedule', r.schedule)))::text,
               p_max_attempts, fired, a.escalation_repeat, m.id
        FROM (SELECT DISTINCT ON (x.user_id) x.user_id, x.schedule FROM (
                  SELECT t.user_id, NULL::jsonb AS schedule, 0 AS rank FROM pulse.escalation_targets t
                  WHERE t.policy_id = a.escalation_policy_id AND t.level = fired AND t.user_id IS NOT NULL
                  UNION ALL
                  SELECT (o->>'user_id')::uuid, jsonb_build_object('id', o->'schedule_id', 'name', o->'schedule'), 1
                  FROM jsonb_array_elements(on_call) o WHERE o->>'user_id' IS NOT NULL) x
              ORDER BY x.user_id, x.rank) r
        JOIN pulse.users u ON u.id = r.user_id AND u.tenant_id = a.tenant_id AND NOT u.disabled
        JOIN pulse.user_contact_methods m ON m.user_id = u.id AND m.tenant_id = a.tenant_id
        JOIN pulse.channels c ON c.id = m.channel_id AND c.tenant_id = a.tenant_id AND c.enabled
        ON CONFLICT (idempotency_key) DO NOTHING;
        GET DIAGNOSTICS more = ROW_COUNT;
        UPDATE pulse.alerts x SET
            escalation_level = CASE WHEN fired < levels THEN fired + 1 ELSE 1 END,
            escalation_repeat = CASE WHEN fired < levels THEN a.escalation_repeat ELSE a.escalation_repeat + 1 END,
            next_escalation_at = CASE WHEN fired < levels OR a.escalation_repeat < repeats
                                      THEN p_now + make_interval(secs => delay) END
        WHERE x.id = a.id;
        alert_id := a.id;
        tenant_id := a.tenant_id::text;
        level := fired;
        repeat := a.escalation_repeat;
        due_at := to_char(a.next_escalation_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
        deliveries := created + more;
        RETURN NEXT;
    END LOOP;
END $$;
REVOKE ALL ON FUNCTION pulse.fire_due_escalations(timestamptz, integer, integer, text) FROM PUBLIC;
