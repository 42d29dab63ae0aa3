-- 009: what the console changes beyond 007: channels can be deleted, tenant-admins set their own default
-- device thresholds.

-- A deleted channel keeps its row, because its deliveries name it (their history stays readable), and
-- gives its name up for a new channel.
ALTER TABLE pulse.channels ADD COLUMN deleted_at timestamptz;
ALTER TABLE pulse.channels DROP CONSTRAINT channels_tenant_id_name_key;
CREATE UNIQUE INDEX channels_tenant_name_idx ON pulse.channels (tenant_id, name) WHERE deleted_at IS NULL;

-- Tenants are written only through functions (006). This one changes the default thresholds of the
-- transaction's own tenant (pulse.tenants, set by the API for the caller), never of one the caller names.
-- A device whose own threshold would then have it go OFFLINE before STALE stops the change: its name is
-- returned and nothing is changed; '' when changed.
CREATE FUNCTION pulse.set_default_thresholds(p_stale integer, p_offline integer) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
DECLARE
    me uuid[] := pulse.current_tenants();
    clash text;
BEGIN
    IF cardinality(me) <> 1 THEN
        RAISE EXCEPTION 'exactly one tenant must be set for this transaction' USING ERRCODE = '42501';
    END IF;
    IF p_stale IS NULL OR p_offline IS NULL OR p_stale < 1 OR p_stale >= p_offline THEN
        RAISE EXCEPTION 'stale must be at least 1 s and less than offline' USING ERRCODE = '22023';
    END IF;
    SELECT d.name INTO clash FROM pulse.devices d
    WHERE d.tenant_id = me[1] AND d.decommissioned_at IS NULL
      AND coalesce(d.stale_after_s, p_stale) >= coalesce(d.offline_after_s, p_offline)
    ORDER BY d.name LIMIT 1;
    IF clash IS NOT NULL THEN
        RETURN clash;
    END IF;
    UPDATE pulse.tenants SET default_stale_after_s = p_stale, default_offline_after_s = p_offline
    WHERE id = me[1];
    RETURN '';
END $$;
REVOKE ALL ON FUNCTION pulse.set_default_thresholds(integer, integer) FROM PUBLIC;
