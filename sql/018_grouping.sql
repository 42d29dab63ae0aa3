-- 018: grouping (Alertmanager's model). A routing rule may group the alerts it matches by rule and/or site:
-- instead of a notice per alert, one notice lists a group's alerts. The first goes group_wait after the group
-- formed (so an outage's alerts arrive together), later ones at most every group_interval while the group
-- changes (an alert joins, is acknowledged or closes), and the same again every repeat_interval while alerts
-- in it are still open and unacknowledged (0: never). When every alert in it is closed, a last notice says
-- the group is resolved (none if nothing was ever sent) and the group ends; the next alert starts a new one.
-- A sender sees one incident per group (PagerDuty: one dedup_key per group).

ALTER TABLE pulse.routing_rules
    ADD COLUMN group_by text[] NOT NULL DEFAULT '{}' CHECK (group_by <@ ARRAY['rule', 'site']::text[]),
    ADD COLUMN group_wait_s integer NOT NULL DEFAULT 30 CHECK (group_wait_s BETWEEN 0 AND 3600),
    ADD COLUMN group_interval_s integer NOT NULL DEFAULT 300 CHECK (group_interval_s BETWEEN 1 AND 86400),
    ADD COLUMN repeat_interval_s integer NOT NULL DEFAULT 14400
        CHECK (repeat_interval_s BETWEEN 0 AND 604800);

CREATE TABLE pulse.notification_groups (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id        uuid NOT NULL REFERENCES pulse.tenants (id),
    -- A deleted routing rule leaves its groups to end quietly at their next flush.
    routing_rule_id  uuid REFERENCES pulse.routing_rules (id) ON DELETE SET NULL,
    group_key        text NOT NULL,  -- 'rule:<id>/site:<id or ->', the parts the rule groups by
    rule_id          uuid REFERENCES pulse.rules (id) ON DELETE SET NULL,  -- when grouped by rule
    site_id          uuid REFERENCES pulse.sites (id) ON DELETE SET NULL,  -- when grouped by site
    status           text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'RESOLVED')),
    next_flush_at    timestamptz,
    last_flushed_at  timestamptz,
    notifications    integer NOT NULL DEFAULT 0,
    last_digest      text NOT NULL DEFAULT '',  -- the alerts and their statuses the last notice listed
    created_at       timestamptz NOT NULL DEFAULT now(),
    resolved_at      timestamptz
);
-- One open group per key: the alerts of one outage join it, whichever instance routes them.
CREATE UNIQUE INDEX notification_groups_open_idx ON pulse.notification_groups (routing_rule_id, group_key)
    WHERE status = 'OPEN';
CREATE INDEX notification_groups_due_idx ON pulse.notification_groups (next_flush_at)
    WHERE next_flush_at IS NOT NULL;
CREATE INDEX notification_groups_tenant_idx ON pulse.notification_groups (tenant_id, created_at DESC);

CREATE TABLE pulse.notification_group_alerts (
    group_id   bigint NOT NULL REFERENCES pulse.notification_groups (id) ON DELETE CASCADE,
    alert_id   bigint NOT NULL REFERENCES pulse.alerts (id),
    tenant_id  uuid NOT NULL REFERENCES pulse.tenants (id),
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, alert_id)
);
CREATE INDEX notification_group_alerts_alert_idx ON pulse.notification_group_alerts (alert_id);

-- A group's notice is a delivery of the group's lead alert (its most severe) that names the group.
ALTER TABLE pulse.deliveries ADD COLUMN notification_group_id bigint REFERENCES pulse.notification_groups (id);
CREATE INDEX deliveries_group_idx ON pulse.deliveries (notification_group_id)
    WHERE notification_group_id IS NOT NULL;

SELECT pulse_meta.isolate_tenant_table(t) FROM unnest(ARRAY['pulse.notification_groups'::regclass,
    'pulse.notification_group_alerts'::regclass]) AS t;

CREATE FUNCTION pulse.severity_rank(p_severity text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_severity WHEN 'CRITICAL' THEN 5 WHEN 'HIGH' THEN 4 WHEN 'MEDIUM' THEN 3 WHEN 'LOW' THEN 2
                           WHEN 'INFO' THEN 1 ELSE 0 END
$$;

-- The grouping half of routing one alert event (the routing statement of AlertStore.cpp does the rest, and
-- skips grouping rules). An opening that would be notified joins a group of each grouping rule it matches
-- (the same match as the routing statement's); an acknowledgement or closing of a member of a group already
-- notified brings that group's next notice forward to group_interval after its last. Runs as its caller,
-- under the caller's tenant scope. Returns how many groups it touched (the caller wakes the flusher).
CREATE FUNCTION pulse.group_alert_event(p_alert bigint, p_event bigint) RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = pulse, pg_temp AS $$
DECLARE
    a record;
    r record;
    key text;
    gid bigint;
    touched integer := 0;
BEGIN
    SELECT al.*, ru.type AS rule_type, d.site_id, d.tags, e.kind AS event_kind INTO a
    FROM pulse.alerts al
    JOIN pulse.rules ru ON ru.id = al.rule_id
    JOIN pulse.devices d ON d.id = al.device_id
    JOIN pulse.alert_events e ON e.id = p_event AND e.alert_id = al.id
    WHERE al.id = p_alert;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    IF a.event_kind = 'OPENED' THEN
        IF a.flapping OR a.silenced_until > now() OR a.notice_held THEN
            RETURN 0;
        END IF;
        FOR r IN SELECT rr.* FROM pulse.routing_rules rr
                 JOIN pulse.channels c ON c.id = rr.channel_id AND c.enabled
                 WHERE rr.tenant_id = a.tenant_id AND rr.enabled AND cardinality(rr.group_by) > 0
                   AND (cardinality(rr.severities) = 0 OR a.severity = ANY (rr.severities))
                   AND (cardinality(rr.rule_types) = 0 OR a.rule_type = ANY (rr.rule_types))
                   AND (rr.site_id IS NULL OR rr.site_id = a.site_id)
                   AND (rr.tag IS NULL OR rr.tag = ANY (a.tags)) LOOP
            key := concat_ws('/', CASE WHEN 'rule' = ANY (r.group_by) THEN 'rule:' || a.rule_id END,
                             CASE WHEN 'site' = ANY (r.group_by) THEN 'site:' || coalesce(a.site_id::text, '-') END);
            -- A new group waits group_wait; one already notified is due group_interval after its last notice
            -- (or at once, when that is past); one still in its wait keeps it.
            INSERT INTO pulse.notification_groups AS g (tenant_id, routing_rule_id, group_key, rule_id, site_id,
                                                        next_flush_at)
            VALUES (a.tenant_id, r.id, key, CASE WHEN 'rule' = ANY (r.group_by) THEN a.rule_id END,
                    CASE WHEN 'site' = ANY (r.group_by) THEN a.site_id END,
                    now() + make_interval(secs => r.group_wait_s))
            ON CONFLICT (routing_rule_id, group_key) WHERE status = 'OPEN' DO UPDATE
                SET next_flush_at = CASE WHEN g.last_flushed_at IS NULL
                                         THEN coalesce(g.next_flush_at,
                                                       now() + make_interval(secs => r.group_wait_s))
                                         ELSE least(coalesce(g.next_flush_at, 'infinity'),
                                                    greatest(now(), g.last_flushed_at
                                                                    + make_interval(secs => r.group_interval_s)))
                                    END
            RETURNING g.id INTO gid;
            INSERT INTO pulse.notification_group_alerts (group_id, alert_id, tenant_id)
            VALUES (gid, a.id, a.tenant_id) ON CONFLICT DO NOTHING;
            touched := touched + 1;
        END LOOP;
    ELSIF a.event_kind IN ('ACKNOWLEDGED', 'CLOSED') THEN
        -- One never notified keeps its wait, or (waiting for a change since all its alerts were acknowledged
        -- before its first notice) is looked at now.
        UPDATE pulse.notification_groups g
        SET next_flush_at = CASE WHEN g.last_flushed_at IS NULL THEN coalesce(g.next_flush_at, now())
                                 ELSE least(coalesce(g.next_flush_at, 'infinity'),
                                            greatest(now(), g.last_flushed_at
                                                            + make_interval(secs => rr.group_interval_s))) END
        FROM pulse.notification_group_alerts m, pulse.routing_rules rr
        WHERE m.alert_id = a.id AND g.id = m.group_id AND g.status = 'OPEN' AND rr.id = g.routing_rule_id;
        GET DIAGNOSTICS touched = ROW_COUNT;
    END IF;
    RETURN touched;
END $$;

-- The flusher: sends the due notices of any tenant's groups, at most p_limit groups, each claimed with SKIP
-- LOCKED so that instances never send the same one. A group whose alerts all closed says so (if it ever said
-- anything) and ends; one whose alerts did not change since its last notice repeats it once repeat_interval
-- has passed, while one of them is open and unacknowledged; otherwise the notice lists what is there now.
-- The notice is the lead alert's (alert_notice) with the group in it; its idempotency key names the group
-- and the notice's number, so a retry is recognisable and two flushes cannot both send one.
CREATE FUNCTION pulse.flush_due_groups(p_now timestamptz, p_limit integer, p_max_attempts integer,
                                       p_console text)
RETURNS TABLE (group_id bigint, tenant_id text, kind text, alerts integer, deliveries integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
DECLARE
    g record;
    r record;
    lead record;
    digest text;
    n_open integer;
    n_acked integer;
    n_closed integer;
    sending text;
    notice jsonb;
    members jsonb;
    summary text;
    created integer;
BEGIN
    FOR g IN SELECT x.* FROM pulse.notification_groups x WHERE x.next_flush_at <= p_now AND x.status = 'OPEN'
             ORDER BY x.next_flush_at LIMIT p_limit FOR UPDATE OF x SKIP LOCKED LOOP
        SELECT rr.* INTO r FROM pulse.routing_rules rr WHERE rr.id = g.routing_rule_id;
        SELECT count(*) FILTER (WHERE a.status = 'OPEN'), count(*) FILTER (WHERE a.status = 'ACKNOWLEDGED'),
               count(*) FILTER (WHERE a.status = 'CLOSED'),
               coalesce(string_agg(a.id || ':' || a.status, ',' ORDER BY a.id), '')
        INTO n_open, n_acked, n_closed, digest
        FROM pulse.notification_group_alerts m JOIN pulse.alerts a ON a.id = m.alert_id WHERE m.group_id = g.id;
        IF r.id IS NULL OR NOT r.enabled OR cardinality(r.group_by) = 0
           OR (n_open + n_acked = 0 AND g.notifications = 0) THEN
            -- Its routing rule was deleted, disabled or no longer groups, or all its alerts closed before its
            -- first notice: it ends without a word.
            UPDATE pulse.notification_groups x SET status = 'RESOLVED', resolved_at = p_now, next_flush_at = NULL
            WHERE x.id = g.id;
            group_id := g.id; tenant_id := g.tenant_id::text; kind := 'ENDED';
            alerts := n_open + n_acked + n_closed; deliveries := 0;
            RETURN NEXT;
            CONTINUE;
        ELSIF n_open + n_acked = 0 THEN
            sending := 'CLOSED';
        ELSIF n_open = 0 AND g.notifications = 0 THEN
            -- Every alert acknowledged before the first notice: someone is on it, nothing to page about. It
            -- waits for a change (an alert joining, or all closing: then it ends without a word).
            UPDATE pulse.notification_groups x SET next_flush_at = NULL WHERE x.id = g.id;
            CONTINUE;
        ELSIF digest <> g.last_digest THEN
            sending := CASE WHEN n_open > 0 THEN 'OPENED' ELSE 'ACKNOWLEDGED' END;
        ELSIF n_open > 0 AND r.repeat_interval_s > 0
              AND p_now >= g.last_flushed_at + make_interval(secs => r.repeat_interval_s) THEN
            sending := 'OPENED';
        ELSE
            -- Brought forward by a change that left the list as it was: back to the repeat, if any.
            UPDATE pulse.notification_groups x
            SET next_flush_at = CASE WHEN n_open > 0 AND r.repeat_interval_s > 0
                                     THEN g.last_flushed_at + make_interval(secs => r.repeat_interval_s) END
            WHERE x.id = g.id;
            CONTINUE;
        END IF;

        -- The lead: the most severe of what is still open (of all, once all closed), then the oldest.
        SELECT a.id, (SELECT max(e.id) FROM pulse.alert_events e WHERE e.alert_id = a.id) AS event_id INTO lead
        FROM pulse.notification_group_alerts m JOIN pulse.alerts a ON a.id = m.alert_id
        WHERE m.group_id = g.id
        ORDER BY (a.status <> 'CLOSED') DESC, pulse.severity_rank(a.severity) DESC, a.opened_at, a.id LIMIT 1;

        SELECT coalesce(jsonb_agg(x.item ORDER BY x.ord), '[]'::jsonb) INTO members FROM (
            SELECT row_number() OVER (ORDER BY a.status = 'CLOSED', a.status = 'ACKNOWLEDGED',
                                               pulse.severity_rank(a.severity) DESC, a.opened_at, a.id) AS ord,
                   jsonb_build_object('id', a.id, 'status', a.status, 'severity', a.severity,
                       'summary', a.summary, 'opened_at', a.opened_at, 'closed_at', a.closed_at,
                       'device', jsonb_build_object('id', d.id, 'name', d.name),
                       'link', CASE WHEN p_console = '' THEN NULL
                                    ELSE p_console || '/alerts?status=&open=' || a.id END) AS item
            FROM pulse.notification_group_alerts m JOIN pulse.alerts a ON a.id = m.alert_id
            JOIN pulse.devices d ON d.id = a.device_id
            WHERE m.group_id = g.id) x WHERE x.ord <= 50;

        summary := (n_open + n_acked + n_closed) || CASE WHEN n_open + n_acked + n_closed = 1 THEN ' alert'
                                                          ELSE ' alerts' END
                   || ' (' || concat_ws(', ', CASE WHEN n_open > 0 THEN n_open || ' open' END,
                                        CASE WHEN n_acked > 0 THEN n_acked || ' acknowledged' END,
                                        CASE WHEN n_closed > 0 THEN n_closed || ' closed' END) || ')'
                   || coalesce(' of ' || (SELECT ru.name FROM pulse.rules ru WHERE ru.id = g.rule_id), '')
                   || coalesce(' at ' || (SELECT s.name FROM pulse.sites s WHERE s.id = g.site_id), '');

        notice := pulse.alert_notice(lead.id, lead.event_id, p_console) || jsonb_build_object(
            'type', 'alert.' || lower(sending),
            'event', jsonb_build_object('id', lead.event_id, 'kind', sending, 'at', p_now, 'actor', 'system'),
            'group', jsonb_build_object(
                'id', g.id, 'key', g.group_key, 'by', to_jsonb(r.group_by),
                'rule', (SELECT jsonb_build_object('id', ru.id, 'name', ru.name) FROM pulse.rules ru
                         WHERE ru.id = g.rule_id),
                'site', (SELECT jsonb_build_object('id', s.id, 'name', s.name) FROM pulse.sites s
                         WHERE s.id = g.site_id),
                'status', CASE sending WHEN 'CLOSED' THEN 'resolved' WHEN 'ACKNOWLEDGED' THEN 'acknowledged'
                                       ELSE 'firing' END,
                'notification', g.notifications + 1, 'repeat', digest = g.last_digest,
                'summary', summary,
                'counts', jsonb_build_object('open', n_open, 'acknowledged', n_acked, 'closed', n_closed,
                                             'total', n_open + n_acked + n_closed),
                'alerts', members));

        created := 0;
        -- A disabled channel is sent nothing, as the routing statement does; the group goes on.
        IF EXISTS (SELECT 1 FROM pulse.channels ch WHERE ch.id = r.channel_id AND ch.enabled) THEN
            INSERT INTO pulse.deliveries (tenant_id, alert_id, event_id, channel_id, routing_rule_id,
                                          notification_group_id, idempotency_key, payload, max_attempts)
            VALUES (g.tenant_id, lead.id, lead.event_id, r.channel_id, r.id, g.id,
                    'grp_' || g.id || '_' || (g.notifications + 1), notice::text, p_max_attempts)
            ON CONFLICT (idempotency_key) DO NOTHING;
            GET DIAGNOSTICS created = ROW_COUNT;
        END IF;

        UPDATE pulse.notification_groups x
        SET notifications = g.notifications + 1, last_flushed_at = p_now, last_digest = digest,
            status = CASE WHEN sending = 'CLOSED' THEN 'RESOLVED' ELSE 'OPEN' END,
            resolved_at = CASE WHEN sending = 'CLOSED' THEN p_now END,
            next_flush_at = CASE WHEN sending <> 'CLOSED' AND n_open > 0 AND r.repeat_interval_s > 0
                                 THEN p_now + make_interval(secs => r.repeat_interval_s) END
        WHERE x.id = g.id;
        group_id := g.id; tenant_id := g.tenant_id::text; kind := sending;
        alerts := n_open + n_acked + n_closed; deliveries := created;
        RETURN NEXT;
    END LOOP;
END $$;

-- How long the flusher may sleep: until the earliest group's next notice.
CREATE FUNCTION pulse.next_group_flush_due() RETURNS timestamptz
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    SELECT min(next_flush_at) FROM pulse.notification_groups WHERE next_flush_at IS NOT NULL
$$;

REVOKE ALL ON FUNCTION pulse.flush_due_groups(timestamptz, integer, integer, text),
    pulse.next_group_flush_due() FROM PUBLIC;
