-- 019: a notification group lives until its alerts close, whatever happens to its routing rule meanwhile,
-- and its notices keep their order. 018 ended a group without a word as soon as its routing rule stopped
-- grouping or moved to another channel, leaving a PagerDuty incident and a chat thread that nothing resolves,
-- and ordered a group's notices by their lead alert, which changes (a resolve could overtake a retried
-- trigger). Now a group keeps the channel and the grouping it formed with; an edited routing rule forms new
-- groups for new alerts and lets the old ones run to their end; a deleted or disabled one ends them (as it
-- ends the follow-ups of alerts it routed one by one). Alerts silenced, flapping, in maintenance or behind a
-- parent in trouble after they joined stay listed but alone neither send a group's first notice nor repeat it.

ALTER TABLE pulse.notification_groups
    ADD COLUMN channel_id uuid REFERENCES pulse.channels (id),
    ADD COLUMN group_by text[] NOT NULL DEFAULT '{}';
UPDATE pulse.notification_groups g SET channel_id = rr.channel_id, group_by = rr.group_by
FROM pulse.routing_rules rr WHERE rr.id = g.routing_rule_id;

-- One open group per routing rule, channel and key: after a routing rule changes channel, new alerts form a
-- group there while the old group finishes where its incident is.
DROP INDEX pulse.notification_groups_open_idx;
CREATE UNIQUE INDEX notification_groups_open_idx
    ON pulse.notification_groups (routing_rule_id, channel_id, group_key) WHERE status = 'OPEN';
CREATE INDEX notification_groups_route_idx ON pulse.notification_groups (routing_rule_id) WHERE status = 'OPEN';

-- A group's notices reach its channel in order, like an alert's (010): held while an earlier notice of the
-- same group is pending there, whichever alert led either.
CREATE INDEX deliveries_pending_group_idx ON pulse.deliveries (notification_group_id, id)
    WHERE status = 'PENDING' AND notification_group_id IS NOT NULL;

CREATE OR REPLACE FUNCTION pulse.claim_delivery(p_worker text, p_lease_s integer, p_excluded_channels uuid[])
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
          AND NOT EXISTS (SELECT 1 FROM pulse.deliveries e
                          WHERE e.alert_id = d.alert_id AND e.channel_id = d.channel_id AND e.id < d.id
                            AND e.status = 'PENDING')
          AND (d.notification_group_id IS NULL
               OR NOT EXISTS (SELECT 1 FROM pulse.deliveries e
                              WHERE e.notification_group_id = d.notification_group_id AND e.id < d.id
                                AND e.status = 'PENDING'))
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

-- A routing rule deleted or disabled ends its open groups at once (the flusher ends them without a word),
-- including those waiting without a timer. Before the delete, while the groups still name it.
CREATE FUNCTION pulse.end_groups_of_routing_rule() RETURNS trigger
LANGUAGE plpgsql SET search_path = pulse, pg_temp AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (OLD.enabled AND NOT NEW.enabled) THEN
        UPDATE pulse.notification_groups g SET next_flush_at = now()
        WHERE g.routing_rule_id = OLD.id AND g.status = 'OPEN';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER routing_rules_end_groups BEFORE UPDATE OF enabled OR DELETE ON pulse.routing_rules
    FOR EACH ROW EXECUTE FUNCTION pulse.end_groups_of_routing_rule();

-- As 018, with the group's channel and grouping kept on it, the grouping rules taken in one order (two
-- concurrent alerts lock their groups in the same order) and the interval read without needing the rule.
CREATE OR REPLACE FUNCTION pulse.group_alert_event(p_alert bigint, p_event bigint) RETURNS integer
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
                   AND (rr.tag IS NULL OR rr.tag = ANY (a.tags))
                 ORDER BY rr.id LOOP
            key := concat_ws('/', CASE WHEN 'rule' = ANY (r.group_by) THEN 'rule:' || a.rule_id END,
                             CASE WHEN 'site' = ANY (r.group_by) THEN 'site:' || coalesce(a.site_id::text, '-') END);
            -- A new group waits group_wait; one already notified is due group_interval after its last notice
            -- (or at once, when that is past); one still in its wait keeps it, one waiting longer than that
            -- (on alerts only held) takes the new alert's wait.
            INSERT INTO pulse.notification_groups AS g (tenant_id, routing_rule_id, channel_id, group_by, group_key,
                                                        rule_id, site_id, next_flush_at)
            VALUES (a.tenant_id, r.id, r.channel_id, r.group_by, key,
                    CASE WHEN 'rule' = ANY (r.group_by) THEN a.rule_id END,
                    CASE WHEN 'site' = ANY (r.group_by) THEN a.site_id END,
                    now() + make_interval(secs => r.group_wait_s))
            ON CONFLICT (routing_rule_id, channel_id, group_key) WHERE status = 'OPEN' DO UPDATE
                SET next_flush_at = CASE WHEN g.last_flushed_at IS NULL
                                         THEN least(coalesce(g.next_flush_at, 'infinity'),
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
        -- before its first notice) is looked at now. Without its routing rule it is due at once (and ends).
        UPDATE pulse.notification_groups g
        SET next_flush_at = CASE WHEN g.last_flushed_at IS NULL THEN coalesce(g.next_flush_at, now())
                                 ELSE least(coalesce(g.next_flush_at, 'infinity'),
                                            greatest(now(), g.last_flushed_at + make_interval(secs => coalesce(
                                                (SELECT rr.group_interval_s FROM pulse.routing_rules rr
                                                 WHERE rr.id = g.routing_rule_id), 0)))) END
        FROM pulse.notification_group_alerts m
        WHERE m.alert_id = a.id AND g.id = m.group_id AND g.status = 'OPEN';
        GET DIAGNOSTICS touched = ROW_COUNT;
    END IF;
    RETURN touched;
END $$;

-- As 018, with what 019 says above: a group ends without a word only when its routing rule is gone or
-- disabled, its channel deleted, or its alerts all closed before it said anything; otherwise its notices go
-- to the channel it formed with. An open alert "pages" unless escalation_deferred_until holds it (silenced,
-- flapping, in maintenance, parent in trouble): only paging alerts send the first notice, repeat it and
-- lead it. A group waiting on alerts that are only held looks again when the earliest hold may end.
CREATE OR REPLACE FUNCTION pulse.flush_due_groups(p_now timestamptz, p_limit integer, p_max_attempts integer,
                                                  p_console text)
RETURNS TABLE (group_id bigint, tenant_id text, kind text, alerts integer, deliveries integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
DECLARE
    g record;
    r record;
    lead record;
    digest text;
    n_open integer;
    n_paging integer;
    held_until timestamptz;
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
        SELECT count(*) FILTER (WHERE s.status = 'OPEN'), count(*) FILTER (WHERE s.status = 'OPEN' AND s.held IS NULL),
               min(s.held) FILTER (WHERE s.status = 'OPEN'),
               count(*) FILTER (WHERE s.status = 'ACKNOWLEDGED'), count(*) FILTER (WHERE s.status = 'CLOSED'),
               coalesce(string_agg(s.id || ':' || s.status, ',' ORDER BY s.id), '')
        INTO n_open, n_paging, held_until, n_acked, n_closed, digest
        FROM (SELECT a.id, a.status, CASE WHEN a.status = 'OPEN' THEN pulse.escalation_deferred_until(a.id, p_now)
                                     END AS held
              FROM pulse.notification_group_alerts m JOIN pulse.alerts a ON a.id = m.alert_id
              WHERE m.group_id = g.id) s;
        IF r.id IS NULL OR NOT r.enabled OR g.channel_id IS NULL
           OR NOT EXISTS (SELECT 1 FROM pulse.channels ch WHERE ch.id = g.channel_id AND ch.deleted_at IS NULL)
           OR (n_open + n_acked = 0 AND g.notifications = 0) THEN
            UPDATE pulse.notification_groups x SET status = 'RESOLVED', resolved_at = p_now, next_flush_at = NULL
            WHERE x.id = g.id;
            group_id := g.id; tenant_id := g.tenant_id::text; kind := 'ENDED';
            alerts := n_open + n_acked + n_closed; deliveries := 0;
            RETURN NEXT;
            CONTINUE;
        ELSIF n_open + n_acked = 0 THEN
            sending := 'CLOSED';
        ELSIF n_paging = 0 AND g.notifications = 0 THEN
            -- Nothing pages before the first notice: every alert acknowledged (someone is on it: wait for a
            -- change) or held (look again when the earliest hold may end).
            UPDATE pulse.notification_groups x SET next_flush_at = held_until WHERE x.id = g.id;
            CONTINUE;
        ELSIF digest <> g.last_digest THEN
            sending := CASE WHEN n_open > 0 THEN 'OPENED' ELSE 'ACKNOWLEDGED' END;
        ELSIF n_paging > 0 AND r.repeat_interval_s > 0
              AND p_now >= g.last_flushed_at + make_interval(secs => r.repeat_interval_s) THEN
            sending := 'OPENED';
        ELSE
            -- Brought forward by a change that left the list as it was, or a repeat while nothing pages: back
            -- to the repeat (or the end of the earliest hold), if any.
            UPDATE pulse.notification_groups x
            SET next_flush_at = CASE WHEN n_open > 0 AND r.repeat_interval_s > 0
                                     THEN greatest(g.last_flushed_at + make_interval(secs => r.repeat_interval_s),
                                                   CASE WHEN n_paging = 0 THEN held_until END) END
            WHERE x.id = g.id;
            CONTINUE;
        END IF;

        -- The lead: the most severe of what pages (of what is open, then of all), then the oldest.
        SELECT a.id, (SELECT max(e.id) FROM pulse.alert_events e WHERE e.alert_id = a.id) AS event_id INTO lead
        FROM pulse.notification_group_alerts m JOIN pulse.alerts a ON a.id = m.alert_id
        WHERE m.group_id = g.id
        ORDER BY (a.status = 'OPEN' AND pulse.escalation_deferred_until(a.id, p_now) IS NULL) DESC,
                 (a.status = 'OPEN') DESC, (a.status <> 'CLOSED') DESC, pulse.severity_rank(a.severity) DESC,
                 a.opened_at, a.id
        LIMIT 1;

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
                'id', g.id, 'key', g.group_key, 'by', to_jsonb(g.group_by),
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
        -- A channel disabled for now (its endpoint gone) is sent nothing, as the routing statement does; the
        -- group goes on.
        IF EXISTS (SELECT 1 FROM pulse.channels ch WHERE ch.id = g.channel_id AND ch.enabled) THEN
            INSERT INTO pulse.deliveries (tenant_id, alert_id, event_id, channel_id, routing_rule_id,
                                          notification_group_id, idempotency_key, payload, max_attempts)
            VALUES (g.tenant_id, lead.id, lead.event_id, g.channel_id, r.id, g.id,
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
