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

SELECT pulse_meta.isolate_tenant_table(t)
FROM unnest(ARRAY['pulse.sessions', 'pulse.api_keys', 'pulse.audit_log']::regclass[]) AS t;

-- Login: the user by e-mail, whatever the tenant (the tenant is what the login establishes).
CREATE FUNCTION pulse.user_for_login(p_email text)
RETURNS TABLE (id uuid, tenant_id uuid, email text, role text, password_hash text, disabled boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    SELECT u.id, u.tenant_id, u.email::text, u.role, u.password_hash, u.disabled
    FROM pulse.users u WHERE lower(u.email::text) = lower(p_email)
$$;

CREATE FUNCTION pulse.open_session(p_user uuid, p_token_sha256 bytea, p_csrf text, p_address text,
                                   p_user_agent text, p_ttl_s integer) RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    INSERT INTO pulse.sessions (token_sha256, user_id, tenant_id, csrf_token, address, user_agent, expires_at)
    SELECT p_token_sha256, u.id, u.tenant_id, p_csrf, left(p_address, 100), left(p_user_agent, 300),
           now() + make_interval(secs => p_ttl_s)
    FROM pulse.users u WHERE u.id = p_user AND NOT u.disabled
    RETURNING id
$$;

-- The session's principal, if the session is live and its user enabled; sliding last_seen_at.
CREATE FUNCTION pulse.session_principal(p_token_sha256 bytea)
RETURNS TABLE (session_id bigint, user_id uuid, tenant_id uuid, email text, role text, csrf_token text)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    UPDATE pulse.sessions s SET last_seen_at = now()
    FROM pulse.users u
    WHERE s.token_sha256 = p_token_sha256 AND s.revoked_at IS NULL AND s.expires_at > now()
      AND u.id = s.user_id AND NOT u.disabled
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
    RETURNING k.id, k.tenant_id, k.name, k.role, k.token_prefix
$$;

CREATE FUNCTION pulse.write_audit(p_actor text, p_actor_id uuid, p_actor_role text, p_tenant uuid,
                                  p_address text, p_action text, p_target text, p_result text, p_detail jsonb)
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    INSERT INTO pulse.audit_log (actor, actor_id, actor_role, tenant_id, address, action, target, result, detail)
    VALUES (left(p_actor, 400), p_actor_id, p_actor_role, p_tenant, left(p_address, 100), p_action,
            left(p_target, 400), p_result, coalesce(p_detail, '{}'))
    RETURNING id
$$;

-- A page of the audit log, newest first: one tenant's, or (p_tenant NULL) everything, for operator-admins.
CREATE FUNCTION pulse.audit_page(p_tenant uuid, p_before bigint, p_limit integer)
RETURNS SETOF pulse.audit_log
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pulse, pg_temp AS $$
    SELECT * FROM pulse.audit_log
    WHERE (p_tenant IS NULL OR tenant_id = p_tenant) AND (p_before <= 0 OR id < p_before)
    ORDER BY id DESC LIMIT least(greatest(p_limit, 1), 1000)
$$;

COMMENT ON TABLE pulse.audit_log IS 'append-only: written through pulse.write_audit';

REVOKE ALL ON FUNCTION pulse.user_for_login(text), pulse.open_session(uuid, bytea, text, text, text, integer),
    pulse.session_principal(bytea), pulse.revoke_session(bytea), pulse.api_key_principal(bytea),
    pulse.write_audit(text, uuid, text, uuid, text, text, text, text, jsonb),
    pulse.audit_page(uuid, bigint, integer) FROM PUBLIC;
