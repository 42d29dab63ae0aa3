-- 005: identity and the audit log: browser sessions, API keys, one structured row per audited action.
-- Tokens are stored only as SHA-256 digests. Rows of operators (no tenant) are out of the application
-- role's reach under row-level security; login, session and key lookups, and audit writes go through the
-- SECURITY DEFINER functions below, each with fixed SQL.

-- A browser session (cookie). Logout and user changes revoke it at once: every request looks it up.
CREATE TABLE pulse.sessions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_sha256  bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    user_id       uuid NOT NULL REFERENCES pulse.users (id),
    tenant_id     uuid REFERENCES pulse.tenants (id),  -- the user's; NULL for operators
    csrf_token    text NOT NULL CHECK (length(csrf_token) >= 32),
    address       text NOT NULL DEFAULT '',
    user_agent    text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz
);
CREATE INDEX sessions_user_idx ON pulse.sessions (user_id) WHERE revoked_at IS NULL;

-- An API key for automation: shown once, scoped to one tenant and a role no higher than its creator's.
CREATE TABLE pulse.api_keys (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL REFERENCES pulse.tenants (id),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role          text NOT NULL CHECK (role IN ('customer', 'tenant-admin')),
    token_sha256  bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    token_prefix  text NOT NULL,  -- the first characters, to recognise a key in lists and logs
    created_by    uuid REFERENCES pulse.users (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_keys_tenant_idx ON pulse.api_keys (tenant_id, created_at);

-- One row per audited action (RELIABILITY.md S10). Append-only for the application role: it may read its
-- tenant's rows, and writes only through pulse.write_audit.
CREATE TABLE pulse.audit_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text NOT NULL,            -- user:<email>, api-key:<prefix>, anonymous, system
    actor_id   uuid,                     -- the user or key
    actor_role text NOT NULL DEFAULT '',
    tenant_id  uuid REFERENCES pulse.tenants (id),  -- whose data; NULL for system-wide actions
    address    text NOT NULL DEFAULT '',
    action     text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_.-]*$'),
    target     text NOT NULL DEFAULT '',
    result     text NOT NULL CHECK (result IN ('ok', 'denied', 'failed')),
    detail     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_tenant_idx ON pulse.audit_log (tenant_id, id);
CREATE INDEX audit_log_at_idx ON pulse.audit_log (at);

-- Tables pulsed's role may read but writes only through the SECURITY DEFINER functions here: the migration
-- runner revokes INSERT, UPDATE and DELETE on every table whose comment starts with "pulse:no-direct-writes",
-- and pulsed refuses to serve if that role can write one of them.
COMMENT ON TABLE pulse.sessions IS 'pulse:no-direct-writes (pulse.open_session, pulse.revoke_session)';
COMMENT ON TABLE pulse.audit_log IS 'pulse:no-direct-writes (pulse.write_audit): append-only';
COMMENT ON TABLE pulse.tenants IS 'pulse:no-direct-writes (pulse.ensure_tenant): a tenant cannot rename another';

SELECT pulse_meta.isolate_tenant_table(t)
FROM unnest(ARRAY['pulse.sessions', 'pulse.api_keys', 'pulse.audit_log']::regclass[]) AS t;

-- Login: the user by e-mail, whatever the tenant (the tenant is what the login establishes).
CREATE FUNCTION pulse.user_for_login(p_email text)
RETURNS TABLE (id uuid, tenant_id uuid, email text, role text, password_hash text, disabled boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    SELECT u.id, u.tenant_id, u.email::text, u.role, u.password_hash, u.disabled
    FROM pulse.users u WHERE u.email OPERATOR(public.=) p_email::public.citext
$$;

-- A session for the user whose password hash was just verified: none if the user was disabled or the
-- password changed in between (no row comes back).
CREATE FUNCTION pulse.open_session(p_user uuid, p_verified_hash text, p_token_sha256 bytea, p_csrf text,
                                   p_address text, p_user_agent text, p_ttl_s integer) RETURNS SETOF bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    INSERT INTO pulse.sessions (token_sha256, user_id, tenant_id, csrf_token, address, user_agent, expires_at)
    SELECT p_token_sha256, u.id, u.tenant_id, p_csrf, left(p_address, 100), left(p_user_agent, 300),
           now() + make_interval(secs => least(greatest(p_ttl_s, 60), 2592000))
    FROM pulse.users u WHERE u.id = p_user AND NOT u.disabled AND u.password_hash = p_verified_hash
    RETURNING id
$$;

-- The session's principal, if the session is live and its user enabled; sliding last_seen_at.
CREATE FUNCTION pulse.session_principal(p_token_sha256 bytea)
RETURNS TABLE (session_id bigint, user_id uuid, tenant_id uuid, email text, role text, csrf_token text)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    UPDATE pulse.sessions s SET last_seen_at = now()
    FROM pulse.users u
    WHERE s.token_sha256 = p_token_sha256 AND s.revoked_at IS NULL AND s.expires_at > now()
      AND u.id = s.user_id AND s.tenant_id IS NOT DISTINCT FROM u.tenant_id AND NOT u.disabled
    RETURNING s.id, u.id, u.tenant_id, u.email::text, u.role, s.csrf_token
$$;

CREATE FUNCTION pulse.revoke_session(p_token_sha256 bytea) RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    WITH r AS (UPDATE pulse.sessions SET revoked_at = now()
               WHERE token_sha256 = p_token_sha256 AND revoked_at IS NULL RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM r)
$$;

CREATE FUNCTION pulse.api_key_principal(p_token_sha256 bytea)
RETURNS TABLE (key_id uuid, tenant_id uuid, name text, role text, token_prefix text)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    UPDATE pulse.api_keys k SET last_used_at = now()
    WHERE k.token_sha256 = p_token_sha256 AND k.revoked_at IS NULL
      AND (k.expires_at IS NULL OR k.expires_at > now())
      -- A key is worth no more than its creator is now: disabled or demoted creators take their keys along.
      AND EXISTS (SELECT 1 FROM pulse.users u WHERE u.id = k.created_by AND NOT u.disabled
                  AND (u.role IN ('tenant-admin', 'operator-admin') OR k.role = 'customer')
                  AND (u.tenant_id IS NULL OR u.tenant_id = k.tenant_id))
    RETURNING k.id, k.tenant_id, k.name, k.role, k.token_prefix
$$;

CREATE FUNCTION pulse.write_audit(p_actor text, p_actor_id uuid, p_actor_role text, p_tenant uuid,
                                  p_address text, p_action text, p_target text, p_result text, p_detail jsonb)
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    -- A row about a tenant is written only by a transaction scoped to that tenant.
    INSERT INTO pulse.audit_log (actor, actor_id, actor_role, tenant_id, address, action, target, result, detail)
    SELECT left(p_actor, 400), p_actor_id, p_actor_role, p_tenant, left(p_address, 100), p_action,
           left(p_target, 400), p_result, coalesce(p_detail, '{}')
    WHERE p_tenant IS NULL OR p_tenant = ANY (pulse.current_tenants())
    RETURNING id
$$;

-- The whole audit log, newest first, for operator-admins (tenants read theirs under row-level security).
CREATE FUNCTION pulse.audit_page_all_tenants(p_before bigint, p_limit integer)
RETURNS SETOF pulse.audit_log
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    SELECT * FROM pulse.audit_log WHERE p_before <= 0 OR id < p_before
    ORDER BY id DESC LIMIT least(greatest(p_limit, 1), 1000)
$$;

-- A tenant by slug, created if new (the demo seed and operators' tooling); returns its id.
CREATE FUNCTION pulse.ensure_tenant(p_slug text, p_name text) RETURNS uuid
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    WITH ins AS (INSERT INTO pulse.tenants (slug, name) VALUES (p_slug, p_name)
                 ON CONFLICT (slug) DO NOTHING RETURNING id)
    SELECT id FROM ins UNION ALL SELECT id FROM pulse.tenants WHERE slug = p_slug LIMIT 1
$$;

REVOKE ALL ON FUNCTION pulse.user_for_login(text), pulse.open_session(uuid, text, bytea, text, text, text, integer),
    pulse.session_principal(bytea), pulse.revoke_session(bytea), pulse.api_key_principal(bytea),
    pulse.write_audit(text, uuid, text, uuid, text, text, text, text, jsonb),
    pulse.audit_page_all_tenants(bigint, integer), pulse.ensure_tenant(text, text) FROM PUBLIC;
