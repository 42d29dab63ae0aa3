-- 001: the schema, tenants and users: what the demo seed and identity build on.
-- Tables live in schema "pulse", owned by the migration role; pulsed connects as an application role
-- that owns nothing and is granted DML by the migration runner.
CREATE SCHEMA IF NOT EXISTS pulse;
CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE pulse.tenants (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Operators have no tenant; tenant users belong to exactly one.
CREATE TABLE pulse.users (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id      uuid REFERENCES pulse.tenants (id),
    email          citext NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 320 AND position('@' IN email) > 1),
    display_name   text NOT NULL DEFAULT '',
    role           text NOT NULL CHECK (role IN ('customer', 'tenant-admin', 'operator', 'operator-admin')),
    password_hash  text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    disabled       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((role IN ('operator', 'operator-admin')) = (tenant_id IS NULL))
);
CREATE INDEX users_tenant_idx ON pulse.users (tenant_id);
