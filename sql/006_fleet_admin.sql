-- 006: fleet administration through the API: the subscription's device limit, tenants created and changed
-- by operators.

-- NULL: no limit. Decommissioned devices do not count.
ALTER TABLE pulse.tenants ADD COLUMN device_limit integer CHECK (device_limit IS NULL OR device_limit >= 0);

-- The limit holds whatever inserts a device (the API, the CSV import, the command line, a script): checked
-- per row under a per-tenant transaction lock, so that two concurrent imports cannot both take the last
-- places. Rows inserted earlier in the same statement or transaction count.
CREATE FUNCTION pulse.check_device_limit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
DECLARE
    allowed integer;
    used bigint;
BEGIN
    SELECT t.device_limit INTO allowed FROM pulse.tenants t WHERE t.id = NEW.tenant_id;
    IF allowed IS NULL THEN
        RETURN NEW;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('pulse.device_limit:' || NEW.tenant_id::text, 0));
    SELECT count(*) INTO used FROM pulse.devices d
    WHERE d.tenant_id = NEW.tenant_id AND d.decommissioned_at IS NULL;
    IF used >= allowed THEN
        RAISE EXCEPTION 'the subscription allows % device(s) and % are in use', allowed, used
            USING ERRCODE = 'P0001', HINT = 'pulse:device_limit';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER devices_within_limit BEFORE INSERT ON pulse.devices
    FOR EACH ROW EXECUTE FUNCTION pulse.check_device_limit();

-- Tenants are written only through these (pulse:no-direct-writes); the API lets operator-admins call them.
-- A slug in use raises unique_violation (23505).
CREATE FUNCTION pulse.create_tenant(p_slug text, p_name text, p_device_limit integer) RETURNS uuid
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    INSERT INTO pulse.tenants (slug, name, device_limit) VALUES (p_slug, p_name, p_device_limit) RETURNING id
$$;

-- Changes the name (when not NULL) and, when p_set_limit, the device limit (NULL: none). False: no tenant.
CREATE FUNCTION pulse.update_tenant(p_id uuid, p_name text, p_set_limit boolean, p_device_limit integer)
RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    WITH u AS (UPDATE pulse.tenants
               SET name = coalesce(p_name, name),
                   device_limit = CASE WHEN p_set_limit THEN p_device_limit ELSE device_limit END
               WHERE id = p_id RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM u)
$$;

REVOKE ALL ON FUNCTION pulse.check_device_limit(), pulse.create_tenant(text, text, integer),
    pulse.update_tenant(uuid, text, boolean, integer) FROM PUBLIC;
