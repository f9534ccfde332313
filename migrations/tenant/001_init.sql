CREATE TABLE tenants (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  parent_tenant_id uuid REFERENCES tenants (id),
  name text NOT NULL,
  slug text NOT NULL,
  business_type text NOT NULL,
  subscription_tier text NOT NULL,
  is_demo boolean NOT NULL DEFAULT true,
  city text NOT NULL,
  country text NOT NULL,
  timezone text NOT NULL,
  created_at timestamptz NOT NULL,
  CHECK (tenant_id = id)
);
CREATE INDEX tenants_tenant_id_idx ON tenants (tenant_id);
CREATE INDEX tenants_parent_tenant_id_idx ON tenants (parent_tenant_id);

CREATE TABLE tenant_settings (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  currency text NOT NULL,
  language text NOT NULL,
  opening_time text NOT NULL,
  closing_time text NOT NULL,
  settings jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL
);
CREATE INDEX tenant_settings_tenant_id_idx ON tenant_settings (tenant_id);
