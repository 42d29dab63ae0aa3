-- 010: an alert's notices reach a channel in the order they happened, and dead letters can be sent again. A delivery waits while an earlier one of
-- the same alert to the same channel is still pending (retrying): otherwise a retried trigger would reach
-- PagerDuty after its resolve and open an incident nothing closes, and a chat would show "closed" before
-- "opened". Deliveries of other alerts and channels are not held.
CREATE INDEX deliveries_pending_alert_idx ON pulse.deliveries (alert_id, channel_id, id) WHERE status = 'PENDING';

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

-- The dead letters of a tenant, most recently queued first (GET /api/v1/dead-letters).
CREATE INDEX deliveries_dead_id_idx ON pulse.deliveries (tenant_id, id) WHERE status = 'DEAD';

-- A dead letter sent again by a person is an event on its alert, like its failure was.
ALTER TABLE pulse.alert_events DROP CONSTRAINT alert_events_kind_check;
ALTER TABLE pulse.alert_events ADD CONSTRAINT alert_events_kind_check
    CHECK (kind IN ('OPENED', 'FIRING', 'CLEARED', 'ACKNOWLEDGED', 'SILENCED', 'ASSIGNED', 'COMMENTED', 'CLOSED',
                    'FLAPPING', 'STABLE', 'NOTIFIED', 'NOTIFY_FAILED', 'REQUEUED'));
