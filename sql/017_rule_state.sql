-- 017: rule state that decides alerts, kept in the database (ABI 1.4 rule save/restore). A rule instance
-- keeps per-device state in memory (a hold-for in progress, a condition firing, a device missing); what
-- is not idle is stored here, so that a restarted pulsed, or another instance given the device's next
-- reading (MQTT shared subscriptions split a device's readings across instances), goes on from it.
-- One row per (rule, device) that was ever not idle; an idle device's row holds '' so that the other
-- instances learn it went idle too.

CREATE TABLE pulse.rule_state (
    tenant_id uuid NOT NULL REFERENCES pulse.tenants (id) ON DELETE CASCADE,
    rule_id   uuid NOT NULL REFERENCES pulse.rules (id) ON DELETE CASCADE,
    device_id bigint NOT NULL REFERENCES pulse.devices (id) ON DELETE CASCADE,
    state     text NOT NULL CHECK (octet_length(state) <= 4096),
    state_at  bigint NOT NULL DEFAULT 0,  -- when (ms, the evaluating instance's clock) the state was reached
    saved_by  text NOT NULL,  -- the pulsed instance that saved it (the others restore it)
    saved_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (rule_id, device_id)
);
CREATE INDEX rule_state_saved_idx ON pulse.rule_state (saved_at);

SELECT pulse_meta.isolate_tenant_table('pulse.rule_state'::regclass);

-- The rule engine saves the states of every tenant's rules at once (SECURITY DEFINER, like the rule loading
-- of sql/004); a pair whose rule and device are not of one tenant is skipped, and a state older than the
-- stored one (another instance evaluated the device later, but saved first) does not replace it.
CREATE FUNCTION pulse.save_rule_states(p_by text, p_rules uuid[], p_devices bigint[], p_states text[],
                                       p_state_at bigint[])
RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    WITH saved AS (
        INSERT INTO pulse.rule_state AS s (tenant_id, rule_id, device_id, state, state_at, saved_by)
        SELECT r.tenant_id, r.id, d.id, x.state, x.state_at, p_by
        FROM unnest(p_rules, p_devices, p_states, p_state_at) AS x (rule_id, device_id, state, state_at)
        JOIN pulse.rules r ON r.id = x.rule_id
        JOIN pulse.devices d ON d.id = x.device_id AND d.tenant_id = r.tenant_id
        ON CONFLICT (rule_id, device_id) DO UPDATE
            SET state = excluded.state, state_at = excluded.state_at, saved_by = excluded.saved_by,
                saved_at = clock_timestamp()
            WHERE excluded.state_at >= s.state_at
        RETURNING 1)
    SELECT count(*)::integer FROM saved
$$;

-- A rule's stored states, for a new instance of it (after a restart, or the rule edited).
CREATE FUNCTION pulse.rule_states_of(p_rule uuid)
RETURNS TABLE (device_id bigint, device_name text, state text, state_at bigint, saved_us bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    SELECT s.device_id, d.name, s.state, s.state_at, (extract(epoch FROM s.saved_at) * 1000000)::bigint
    FROM pulse.rule_state s JOIN pulse.devices d ON d.id = s.device_id
    WHERE s.rule_id = p_rule AND s.state <> ''
$$;

-- What other instances saved after p_since_us (µs since 1970; every tenant's), oldest first: the engine
-- restores each into its own instance of the rule. saved_at is taken when the row is written, not when it
-- commits, so a caller asks again with a margin before its last row's time and skips what it applied.
CREATE FUNCTION pulse.rule_states_changed(p_since_us bigint, p_not_by text, p_limit integer)
RETURNS TABLE (rule_id text, device_id bigint, device_name text, state text, state_at bigint, saved_us bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    SELECT s.rule_id::text, s.device_id, d.name, s.state, s.state_at,
           (extract(epoch FROM s.saved_at) * 1000000)::bigint
    FROM pulse.rule_state s JOIN pulse.devices d ON d.id = s.device_id
    WHERE s.saved_at > to_timestamp(p_since_us / 1000000.0) AND s.saved_by <> p_not_by
    ORDER BY s.saved_at, s.rule_id, s.device_id LIMIT p_limit
$$;

-- The stored last-seen times of devices a rule's tick() found silent (every tenant's), so that a device
-- another instance heard is not reported silent by this one.
CREATE FUNCTION pulse.devices_last_seen(p_devices bigint[])
RETURNS TABLE (device_id bigint, last_seen_ms bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    SELECT d.id, coalesce((extract(epoch FROM d.last_seen_at) * 1000)::bigint, 0)
    FROM pulse.devices d WHERE d.id = ANY (p_devices)
$$;

REVOKE ALL ON FUNCTION pulse.save_rule_states(text, uuid[], bigint[], text[], bigint[]),
    pulse.rule_states_of(uuid), pulse.rule_states_changed(bigint, text, integer), pulse.devices_last_seen(bigint[])
    FROM PUBLIC;

-- Flapping is judged from the alerts' history (how often the condition began within the rule's window),
-- not from a count one instance kept in memory: the same verdict after a restart and in every instance.
CREATE INDEX alerts_rule_device_idx ON pulse.alerts (rule_id, device_id);
