-- 020: re-opening an alert. An acknowledged or closed alert can be opened again by a person (POST
-- /api/v1/alerts/{id}/reopen): it is an opening again (an OPENED event by that person, detail "reopened"),
-- routed, grouped, held by maintenance or a troubled parent and escalated from level 1 as a new alert would
-- be. Each opening starts an escalation round: the keys of a round's pages name it (esc_<alert>r<round>_...)
-- so that the second walk is not taken for a retry of the first; round 0 keeps 012's keys.

ALTER TABLE pulse.alerts ADD COLUMN escalation_round integer NOT NULL DEFAULT 0;

-- What an opening of the rule's alert on the device takes now, whether new or re-opened: the rule's policy
-- (or the tenant's default), the maintenance window covering the device, the nearest parent in trouble and
-- why (p_settle_s: how long a recovered parent still counts); held when either holds it, else its first
-- level due now (when it has a policy). Runs as its caller, under the caller's tenant scope.
CREATE FUNCTION pulse.opening_terms(p_tenant uuid, p_rule uuid, p_device bigint, p_settle_s integer)
RETURNS TABLE (policy_id uuid, window_id uuid, parent_id bigint, reason text, held boolean,
               escalate_at timestamptz)
LANGUAGE sql STABLE SET search_path = pulse, pg_temp AS $$
    SELECT p.id, m.id, t.parent_id, t.reason, m.id IS NOT NULL OR t.parent_id IS NOT NULL,
           CASE WHEN p.id IS NOT NULL AND m.id IS NULL AND t.parent_id IS NULL THEN now() END
    FROM (SELECT coalesce((SELECT r.escalation_policy_id FROM pulse.rules r WHERE r.id = p_rule),
                          (SELECT e.id FROM pulse.escalation_policies e WHERE e.tenant_id = p_tenant AND e.is_default))
                 AS id) p,
         (SELECT pulse.maintenance_window_for(p_tenant, p_device, now()) AS id) m
    LEFT JOIN LATERAL pulse.parent_trouble(p_device, now(), p_settle_s) t ON true
$$;

-- The escalator of 015 with the round in its keys and in the ESCALATED event.
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
    round_tag text;
BEGIN
    FOR a IN SELECT x.id, x.tenant_id, x.status, x.escalation_policy_id,
                    x.escalation_level, x.escalation_repeat, x.escalation_round, x.next_escalation_at
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
        round_tag := CASE WHEN a.escalation_round > 0 THEN 'r' || a.escalation_round ELSE '' END;
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
                                   'on_call', on_call, 'round', a.escalation_round))
        RETURNING id INTO event_id;
        notice := pulse.alert_notice(a.id, event_id, p_console) || jsonb_build_object('escalation',
            jsonb_build_object('policy', jsonb_build_object('id', a.escalation_policy_id, 'name', policy_name),
                               'level', fired, 'levels', levels, 'repeat', a.escalation_repeat));
        INSERT INTO pulse.deliveries (tenant_id, alert_id, event_id, channel_id, idempotency_key, payload,
                                      max_attempts, escalation_level, escalation_repeat)
        SELECT a.tenant_id, a.id, event_id, c.id, format('esc_%s_%s_%s_channel_%s', a.id || round_tag, fired,
               a.escalation_repeat, c.id), notice::text, p_max_attempts, fired, a.escalation_repeat
        FROM pulse.escalation_targets t
        JOIN pulse.channels c ON c.id = t.channel_id AND c.tenant_id = a.tenant_id AND c.enabled
        WHERE t.policy_id = a.escalation_policy_id AND t.level = fired
        ON CONFLICT (idempotency_key) DO NOTHING;
        GET DIAGNOSTICS created = ROW_COUNT;
        -- Users named by the level and those its schedules put on call, each once (a named user first).
        INSERT INTO pulse.deliveries (tenant_id, alert_id, event_id, channel_id, idempotency_key, payload,
                                      max_attempts, escalation_level, escalation_repeat, contact_method_id)
        SELECT a.tenant_id, a.id, event_id, c.id, format('esc_%s_%s_%s_contact_%s', a.id || round_tag, fired,
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

-- 016's releases, naming the latest opening (a re-opened alert's own, not its first).
CREATE OR REPLACE FUNCTION pulse.held_releases(p_now timestamptz, p_limit integer, p_settle_s integer)
RETURNS TABLE (alert_id bigint, tenant_id text, status text, condition text, opened_event_id bigint,
               released_by text)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    SELECT a.id, a.tenant_id::text, a.status, a.condition,
           (SELECT e.id FROM pulse.alert_events e WHERE e.alert_id = a.id AND e.kind = 'OPENED'
            ORDER BY e.id DESC LIMIT 1),
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
