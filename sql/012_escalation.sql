-- 012: escalation policies and users' contact methods. An alert that nobody acknowledges walks its policy's
-- levels: each level pages its targets (channels, and users through their contact methods) through the
-- outbox, then waits its delay before the next. The timer is the alert's own next_escalation_at, so any
-- pulsed instance may fire it (claimed FOR UPDATE SKIP LOCKED) and a restart neither skips nor repeats a
-- level: a level's deliveries and the step to the next commit together.

CREATE TABLE pulse.escalation_policies (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL REFERENCES pulse.tenants (id),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description   text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    repeat_count  integer NOT NULL DEFAULT 0 CHECK (repeat_count BETWEEN 0 AND 9),  -- passes after the first
    is_default    boolean NOT NULL DEFAULT false,  -- for rules that name no policy
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);
CREATE UNIQUE INDEX escalation_policies_default_idx ON pulse.escalation_policies (tenant_id) WHERE is_default;

-- Level n pages its targets, then waits delay_s before level n + 1 (or, after the last, the next pass).
CREATE TABLE pulse.escalation_levels (
    tenant_id  uuid NOT NULL REFERENCES pulse.tenants (id),
    policy_id  uuid NOT NULL REFERENCES pulse.escalation_policies (id) ON DELETE CASCADE,
    level      integer NOT NULL CHECK (level BETWEEN 1 AND 5),
    delay_s    integer NOT NULL CHECK (delay_s BETWEEN 1 AND 86400),
    PRIMARY KEY (policy_id, level)
);

CREATE TABLE pulse.escalation_targets (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES pulse.tenants (id),
    policy_id   uuid NOT NULL,
    level       integer NOT NULL,
    channel_id  uuid REFERENCES pulse.channels (id),
    user_id     uuid REFERENCES pulse.users (id),
    FOREIGN KEY (policy_id, level) REFERENCES pulse.escalation_levels (policy_id, level) ON DELETE CASCADE,
    CHECK ((channel_id IS NULL) <> (user_id IS NULL))
);
CREATE INDEX escalation_targets_level_idx ON pulse.escalation_targets (policy_id, level);

-- How a user is paged: an e-mail address (sent through one of the tenant's e-mail channels, which carries
-- the relay and sender), or a channel of the user's own (a Slack DM webhook, a PagerDuty service).
CREATE TABLE pulse.user_contact_methods (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES pulse.tenants (id),
    user_id     uuid NOT NULL REFERENCES pulse.users (id),
    kind        text NOT NULL CHECK (kind IN ('email', 'channel')),
    address     text CHECK (length(address) BETWEEN 3 AND 254),
    channel_id  uuid NOT NULL REFERENCES pulse.channels (id),
    label       text NOT NULL DEFAULT '' CHECK (length(label) <= 100),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'email') = (address IS NOT NULL))
);
CREATE INDEX user_contact_methods_user_idx ON pulse.user_contact_methods (user_id);

ALTER TABLE pulse.rules ADD COLUMN escalation_policy_id uuid REFERENCES pulse.escalation_policies (id);

-- The alert's escalation: the policy it took when it opened, the level (1-based) and pass (0-based) that
-- fire next, and when. NULL next_escalation_at: nothing more to fire.
ALTER TABLE pulse.alerts
    ADD COLUMN escalation_policy_id uuid REFERENCES pulse.escalation_policies (id) ON DELETE SET NULL,
    ADD COLUMN escalation_level integer NOT NULL DEFAULT 1,
    ADD COLUMN escalation_repeat integer NOT NULL DEFAULT 0,
    ADD COLUMN next_escalation_at timestamptz;
CREATE INDEX alerts_escalation_due_idx ON pulse.alerts (next_escalation_at) WHERE next_escalation_at IS NOT NULL;

-- Acknowledging or closing stops the escalation, whichever statement does it.
CREATE FUNCTION pulse_meta.stop_escalation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> 'OPEN' THEN
        NEW.next_escalation_at := NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER alerts_stop_escalation BEFORE UPDATE OF status ON pulse.alerts
    FOR EACH ROW EXECUTE FUNCTION pulse_meta.stop_escalation();

-- Which level and pass a delivery pages for (NULL: a routing rule's), and whose contact method it uses.
ALTER TABLE pulse.deliveries
    ADD COLUMN escalation_level integer,
    ADD COLUMN escalation_repeat integer,
    ADD COLUMN contact_method_id uuid REFERENCES pulse.user_contact_methods (id) ON DELETE SET NULL;

ALTER TABLE pulse.alert_events DROP CONSTRAINT alert_events_kind_check;
ALTER TABLE pulse.alert_events ADD CONSTRAINT alert_events_kind_check
    CHECK (kind IN ('OPENED', 'FIRING', 'CLEARED', 'ACKNOWLEDGED', 'SILENCED', 'ASSIGNED', 'COMMENTED', 'CLOSED',
                    'FLAPPING', 'STABLE', 'NOTIFIED', 'NOTIFY_FAILED', 'REQUEUED', 'ESCALATED'));

SELECT pulse_meta.isolate_tenant_table(t) FROM unnest(ARRAY['pulse.escalation_policies'::regclass,
    'pulse.escalation_levels'::regclass, 'pulse.escalation_targets'::regclass,
    'pulse.user_contact_methods'::regclass]) AS t;

-- The notice a sender receives for one event of an alert (docs/plugin-guide.md has its shape). Runs as its
-- caller, under the caller's tenant scope: the routing statement and the escalator build the same document.
CREATE FUNCTION pulse.alert_notice(p_alert bigint, p_event bigint, p_console text) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pulse, pg_temp AS $$
    SELECT jsonb_build_object(
        'type', 'alert.' || lower(e.kind),
        'event', jsonb_build_object('id', e.id, 'kind', e.kind, 'at', e.at, 'actor', e.actor),
        'tenant', jsonb_build_object('id', a.tenant_id, 'slug', t.slug, 'name', t.name),
        'links', CASE WHEN p_console = '' THEN '{}'::jsonb
                      ELSE jsonb_build_object('alert', p_console || '/alerts?status=&open=' || a.id) END,
        'alert', jsonb_build_object(
            'id', a.id, 'status', a.status, 'condition', a.condition, 'severity', a.severity,
            'summary', a.summary, 'value', a.last_value, 'flapping', a.flapping,
            'triggered_at', a.triggered_at,
            'triggered_at_ms', (extract(epoch FROM a.triggered_at) * 1000)::bigint,
            'opened_at', a.opened_at, 'acknowledged_at', a.acknowledged_at,
            'acknowledged_by', a.acknowledged_by, 'closed_at', a.closed_at, 'close_reason', a.close_reason,
            'rule', jsonb_build_object('id', a.rule_id, 'name', r.name, 'type', r.type),
            'device', jsonb_build_object('id', a.device_id, 'name', d.name, 'tags', to_jsonb(d.tags)),
            'site', CASE WHEN d.site_id IS NULL THEN NULL
                         ELSE jsonb_build_object('id', d.site_id, 'name', s.name, 'timezone', s.time_zone)
                    END))
    FROM pulse.alerts a
    JOIN pulse.tenants t ON t.id = a.tenant_id
    JOIN pulse.rules r ON r.id = a.rule_id
    JOIN pulse.devices d ON d.id = a.device_id
    LEFT JOIN pulse.sites s ON s.id = d.site_id
    JOIN pulse.alert_events e ON e.id = p_event AND e.alert_id = a.id
    WHERE a.id = p_alert
$$;

-- The escalator: fires the due levels of any tenant's alerts, at most p_limit of them, each claimed with SKIP
-- LOCKED so that instances never fire the same one. A silenced alert waits for its silence to end, a flapping
-- one is looked at again a minute later; the rest page their level's targets (an ESCALATED event and one
-- delivery per enabled channel and per contact method of each user who is not disabled, idempotency key per
-- alert, level, pass and target) and step on. p_now is the time the levels are due by (a test clock, or now()).
CREATE FUNCTION pulse.fire_due_escalations(p_now timestamptz, p_limit integer, p_max_attempts integer,
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
        INSERT INTO pulse.alert_events (tenant_id, alert_id, kind, at, detail)
        VALUES (a.tenant_id, a.id, 'ESCALATED', clock_timestamp(),
                jsonb_build_object('policy_id', a.escalation_policy_id, 'policy', policy_name, 'level', fired,
                                   'levels', levels, 'repeat', a.escalation_repeat, 'due_at', a.next_escalation_at))
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
        INSERT INTO pulse.deliveries (tenant_id, alert_id, event_id, channel_id, idempotency_key, payload,
                                      max_attempts, escalation_level, escalation_repeat, contact_method_id)
        SELECT a.tenant_id, a.id, event_id, c.id, format('esc_%s_%s_%s_contact_%s', a.id, fired,
               a.escalation_repeat, m.id),
               (notice || jsonb_build_object('recipient', jsonb_build_object(
                   'user_id', u.id, 'name', u.display_name, 'contact_method_id', m.id, 'kind', m.kind,
                   'email', m.address)))::text,
               p_max_attempts, fired, a.escalation_repeat, m.id
        FROM pulse.escalation_targets t
        JOIN pulse.users u ON u.id = t.user_id AND u.tenant_id = a.tenant_id AND NOT u.disabled
        JOIN pulse.user_contact_methods m ON m.user_id = u.id AND m.tenant_id = a.tenant_id
        JOIN pulse.channels c ON c.id = m.channel_id AND c.tenant_id = a.tenant_id AND c.enabled
        WHERE t.policy_id = a.escalation_policy_id AND t.level = fired
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

-- When the escalator should look next: the earliest timer of any tenant (NULL: none set).
CREATE FUNCTION pulse.next_escalation_due() RETURNS timestamptz
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    SELECT min(next_escalation_at) FROM pulse.alerts WHERE next_escalation_at IS NOT NULL
$$;

REVOKE ALL ON FUNCTION pulse.fire_due_escalations(timestamptz, integer, integer, text),
    pulse.next_escalation_due() FROM PUBLIC;
