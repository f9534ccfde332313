-- The demo-session service's own records.
CREATE TABLE demo_sessions (
  session_id uuid PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('pending', 'loading', 'ready', 'failed', 'destroying', 'destroyed', 'expired')),
  demo_account_type text NOT NULL,
  email text,
  subscription_tier text,
  tenant_id uuid NOT NULL,
  tenant_ids uuid[] NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  ready_at timestamptz,
  duration_ms integer,
  error text,
  services jsonb NOT NULL DEFAULT '{}'::jsonb,
  phases jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX demo_sessions_status_idx ON demo_sessions (status);
CREATE INDEX demo_sessions_email_idx ON demo_sessions (lower(email)) WHERE email IS NOT NULL;
CREATE INDEX demo_sessions_expires_at_idx ON demo_sessions (expires_at);
