CREATE TABLE users (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  email text NOT NULL,
  full_name text NOT NULL,
  role text NOT NULL,
  is_active boolean NOT NULL,
  created_at timestamptz NOT NULL,
  last_login_at timestamptz
);
CREATE INDEX users_tenant_id_idx ON users (tenant_id);
CREATE UNIQUE INDEX users_tenant_email_idx ON users (tenant_id, email);
