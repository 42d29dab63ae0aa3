-- 013: on-call schedules. A schedule has an IANA time zone and layers; each layer rotates an ordered list of
-- users, handing off daily or weekly at a local time from a start date, optionally only within a daily
-- window (nights, weekends); a higher layer wins over a lower one where both have someone, and an override
-- (a user for a time range) wins over every layer. Shifts are computed, never stored: the timeline is a
-- function of the layers, the overrides and PostgreSQL's time-zone database (Debian's tzdata), so an edit
-- or a tzdata update holds at once and nothing has to be regenerated. Escalation levels page whoever is on
-- call when they fire.

CREATE TABLE pulse.schedules (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id         uuid NOT NULL REFERENCES pulse.tenants (id),
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description       text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    time_zone         text NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
    calendar_version  integer NOT NULL DEFAULT 1,  -- part of the signed feed URL: bumping it revokes the URL
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);

CREATE TABLE pulse.schedule_layers (
    tenant_id       uuid NOT NULL REFERENCES pulse.tenants (id),
    schedule_id     uuid NOT NULL REFERENCES pulse.schedules (id) ON DELETE CASCADE,
    layer           integer NOT NULL CHECK (layer BETWEEN 1 AND 10),  -- higher wins
    name            text NOT NULL DEFAULT '' CHECK (length(name) <= 100),
    rotation        text NOT NULL CHECK (rotation IN ('daily', 'weekly')),
    handoff_time    time NOT NULL,  -- local wall-clock time of every handoff
    start_date      date NOT NULL,  -- the first shift starts on this local date at handoff_time
    restrict_from   time,           -- the layer covers only [from, to) of each local day (to <= from: overnight)
    restrict_to     time,
    restrict_days   integer[],      -- ISO weekdays (1 Monday .. 7 Sunday) a window opens on; NULL: every day
    PRIMARY KEY (schedule_id, layer),
    CHECK ((restrict_from IS NULL) = (restrict_to IS NULL)),
    CHECK (restrict_from IS DISTINCT FROM restrict_to OR restrict_from IS NULL),
    CHECK (restrict_days IS NULL OR (restrict_days <@ ARRAY[1, 2, 3, 4, 5, 6, 7] AND cardinality(restrict_days) > 0))
);

-- The rotation's order: shift k of a layer is its member at position k mod the number of members.
CREATE TABLE pulse.schedule_layer_members (
    tenant_id    uuid NOT NULL REFERENCES pulse.tenants (id),
    schedule_id  uuid NOT NULL,
    layer        integer NOT NULL,
    position     integer NOT NULL CHECK (position BETWEEN 0 AND 49),
    user_id      uuid NOT NULL REFERENCES pulse.users (id),
    PRIMARY KEY (schedule_id, layer, position),
    FOREIGN KEY (schedule_id, layer) REFERENCES pulse.schedule_layers (schedule_id, layer) ON DELETE CASCADE
);

-- A user on call instead of the layers for a time range. Overrides of one schedule never overlap: the writer
-- locks the schedule's row and looks before it inserts.
CREATE TABLE pulse.schedule_overrides (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL REFERENCES pulse.tenants (id),
    schedule_id  uuid NOT NULL REFERENCES pulse.schedules (id) ON DELETE CASCADE,
    user_id      uuid NOT NULL REFERENCES pulse.users (id),
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    note         text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    created_by   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at AND ends_at - starts_at <= interval '90 days')
);
CREATE INDEX schedule_overrides_range_idx ON pulse.schedule_overrides (schedule_id, starts_at);

-- A user's own calendar feed (their shifts in every schedule) is signed with this version too.
ALTER TABLE pulse.users ADD COLUMN calendar_version integer NOT NULL DEFAULT 1;

-- A level may page a schedule: whoever is on call when it fires, or, with next_on_repeat, on pass n the n-th
-- person on call after them.
ALTER TABLE pulse.escalation_targets
    ADD COLUMN schedule_id uuid REFERENCES pulse.schedules (id),
    ADD COLUMN next_on_repeat boolean NOT NULL DEFAULT false,
    DROP CONSTRAINT escalation_targets_check,
    ADD CONSTRAINT escalation_targets_one_target CHECK (num_nonnulls(channel_id, user_id, schedule_id) = 1);
CREATE INDEX escalation_targets_schedule_idx ON pulse.escalation_targets (schedule_id) WHERE schedule_id IS NOT NULL;

SELECT pulse_meta.isolate_tenant_table(t) FROM unnest(ARRAY['pulse.schedules'::regclass,
    'pulse.schedule_layers'::regclass, 'pulse.schedule_layer_members'::regclass,
    'pulse.schedule_overrides'::regclass]) AS t;

-- The instant a local wall-clock time names in a zone. A time the clocks skip (spring forward, 02:30 in
-- Berlin on 2027-03-28) is read with the offset in force before the change, so it lands as far past the gap's
-- start as it said (03:30 CEST): PostgreSQL's own reading. A time the clocks show twice (fall back, 02:30 in
-- Berlin on 2027-10-31) is its first occurrence (02:30 CEST), where PostgreSQL alone would take the second:
-- a handoff happens when the clock first shows its time. Either way each day's handoff is one instant, so
-- consecutive shifts share their boundary and DST never makes them overlap or leave a gap.
CREATE FUNCTION pulse.local_instant(p_local timestamp, p_zone text) RETURNS timestamptz
LANGUAGE sql STABLE STRICT PARALLEL SAFE SET search_path = pulse, pg_temp AS $$
    SELECT CASE WHEN e.earlier < l.later AND (e.earlier AT TIME ZONE p_zone) = p_local THEN e.earlier
                ELSE l.later END
    FROM (SELECT p_local AT TIME ZONE p_zone AS later) l
    CROSS JOIN LATERAL (
        -- the same wall-clock time read with the offset of a day before (the one in force before a change)
        SELECT (p_local - (((l.later - interval '1 day') AT TIME ZONE p_zone) -
                           ((l.later - interval '1 day') AT TIME ZONE 'UTC'))) AT TIME ZONE 'UTC' AS earlier) e
$$;

-- The schedule's final timeline over [p_from, p_to): who is on call, from when to when, and why (the layer,
-- or the override). Each layer's shifts are cut to its daily window; where several cover an instant, the
-- override wins, then the highest layer; adjacent pieces of the same person from the same source merge.
-- Instants nobody covers are gaps (no row). Runs as its caller, under the caller's tenant scope.
CREATE FUNCTION pulse.schedule_shifts(p_schedule uuid, p_from timestamptz, p_to timestamptz)
RETURNS TABLE (starts_at timestamptz, ends_at timestamptz, user_id uuid, layer integer, override_id uuid)
LANGUAGE sql STABLE SET search_path = pulse, pg_temp AS $$
    WITH zone AS (
        SELECT s.time_zone AS tz, (p_from AT TIME ZONE s.time_zone)::date AS first_day,
               (p_to AT TIME ZONE s.time_zone)::date AS last_day
        FROM pulse.schedules s WHERE s.id = p_schedule
    ),
    layers AS (
        SELECT l.*, CASE l.rotation WHEN 'weekly' THEN 7 ELSE 1 END AS period,
               (SELECT count(*) FROM pulse.schedule_layer_members m
                WHERE m.schedule_id = l.schedule_id AND m.layer = l.layer) AS members
        FROM pulse.schedule_layers l WHERE l.schedule_id = p_schedule
    ),
    -- Shift k of a layer: from its k-th handoff to the next, the k-th member (round robin). Only the shifts
    -- around the range are generated (one more on each side for handoffs late or early in the local day).
    shifts AS (
        SELECT l.layer, l.restrict_from, l.restrict_to, l.restrict_days, m.user_id,
               pulse.local_instant((l.start_date + k * l.period) + l.handoff_time, z.tz) AS starts_at,
               pulse.local_instant((l.start_date + (k + 1) * l.period) + l.handoff_time, z.tz) AS ends_at
        FROM zone z
        CROSS JOIN layers l
        CROSS JOIN LATERAL generate_series(greatest(0, (z.first_day - l.start_date) / l.period - 1),
                                           (z.last_day - l.start_date) / l.period + 1) AS k
        JOIN pulse.schedule_layer_members m
          ON m.schedule_id = l.schedule_id AND m.layer = l.layer AND m.position = k % l.members
        WHERE l.members > 0
    ),
    -- A restricted layer's daily windows, opening on the local days (and weekdays) it names.
    windows AS (
        SELECT l.layer, pulse.local_instant(d::date + l.restrict_from, z.tz) AS opens,
               pulse.local_instant((d::date + CASE WHEN l.restrict_to <= l.restrict_from THEN 1 ELSE 0 END)
                                   + l.restrict_to, z.tz) AS closes
        FROM zone z
        CROSS JOIN layers l
        CROSS JOIN LATERAL generate_series((z.first_day - 1)::timestamp, z.last_day::timestamp, interval '1 day') AS d
        WHERE l.restrict_from IS NOT NULL
          AND (l.restrict_days IS NULL OR extract(isodow FROM d)::integer = ANY (l.restrict_days))
    ),
    segments AS (
        SELECT s.layer, s.user_id, s.starts_at, s.ends_at, NULL::uuid AS override_id
        FROM shifts s WHERE s.restrict_from IS NULL
        UNION ALL
        SELECT s.layer, s.user_id, greatest(s.starts_at, w.opens), least(s.ends_at, w.closes), NULL::uuid
        FROM shifts s JOIN windows w ON w.layer = s.layer AND w.opens < s.ends_at AND w.closes > s.starts_at
        UNION ALL
        SELECT NULL::integer, o.user_id, o.starts_at, o.ends_at, o.id
        FROM pulse.schedule_overrides o
        WHERE o.schedule_id = p_schedule AND o.starts_at < p_to AND o.ends_at > p_from
    ),
    clipped AS (
        SELECT g.layer, g.user_id, greatest(g.starts_at, p_from) AS starts_at, least(g.ends_at, p_to) AS ends_at,
               g.override_id
        FROM segments g WHERE g.starts_at < p_to AND g.ends_at > p_from AND g.starts_at < g.ends_at
    ),
    points AS (SELECT c.starts_at AS at FROM clipped c UNION SELECT c.ends_at FROM clipped c),
    pieces AS (SELECT p.at AS starts_at, lead(p.at) OVER (ORDER BY p.at) AS ends_at FROM points p),
    winners AS (
        SELECT p.starts_at, p.ends_at, w.user_id, w.layer, w.override_id
        FROM pieces p
        CROSS JOIN LATERAL (
            SELECT c.user_id, c.layer, c.override_id FROM clipped c
            WHERE c.starts_at <= p.starts_at AND c.ends_at >= p.ends_at
            ORDER BY c.override_id IS NULL, c.layer DESC LIMIT 1) w
        WHERE p.ends_at IS NOT NULL
    ),
    marked AS (
        SELECT w.*, CASE WHEN lag(w.ends_at) OVER o = w.starts_at AND lag(w.user_id) OVER o = w.user_id
                              AND lag(w.layer) OVER o IS NOT DISTINCT FROM w.layer
                              AND lag(w.override_id) OVER o IS NOT DISTINCT FROM w.override_id
                         THEN 0 ELSE 1 END AS starts_island
        FROM winners w WINDOW o AS (ORDER BY w.starts_at)
    ),
    islands AS (SELECT m.*, sum(m.starts_island) OVER (ORDER BY m.starts_at) AS island FROM marked m)
    SELECT min(i.starts_at), max(i.ends_at), i.user_id, i.layer, i.override_id
    FROM islands i GROUP BY i.island, i.user_id, i.layer, i.override_id ORDER BY 1
$$;

-- Whom a schedule target pages at p_at: p_nth 0, whoever is on call then (NULL in a gap); p_nth n, the n-th
-- different person on call after them over the next 28 days, round robin (a repeat pass reaching further).
CREATE FUNCTION pulse.schedule_on_call(p_schedule uuid, p_at timestamptz, p_nth integer) RETURNS uuid
LANGUAGE sql STABLE SET search_path = pulse, pg_temp AS $$
    WITH upcoming AS (
        SELECT s.user_id, min(s.starts_at) AS first
        FROM pulse.schedule_shifts(p_schedule, p_at, p_at + interval '28 days') s GROUP BY s.user_id
    ),
    ordered AS (
        SELECT u.user_id, u.first, row_number() OVER (ORDER BY u.first) - 1 AS i, count(*) OVER () AS n
        FROM upcoming u
    )
    SELECT o.user_id FROM ordered o
    WHERE CASE WHEN p_nth = 0 THEN o.i = 0 AND o.first = p_at ELSE o.i = p_nth % o.n END
$$;

-- The escalator of 012, now also paging schedule targets (whoever schedule_on_call names when the level
-- fires, recorded in the ESCALATED event as on_call) through their contact methods, like user targets.
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
    created integer;
    more integer;
BEGIN
    FOR a IN SELECT x.id, x.tenant_id, x.status, x.flapping, x.silenced_until, x.escalation_policy_id,
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
        IF a.silenced_until > p_now THEN
            UPDATE pulse.alerts SET next_escalation_at = a.silenced_until WHERE id = a.id;
            CONTINUE;
        END IF;
        IF a.flapping THEN
            UPDATE pulse.alerts SET next_escalation_at = p_now + interval '60 seconds' WHERE id = a.id;
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
