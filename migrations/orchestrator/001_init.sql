CREATE TABLE orchestration_runs (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  run_type text NOT NULL,
  status text NOT NULL,
  started_at timestamptz NOT NULL,
  completed_at timestamptz,
  batches_planned integer NOT NULL,
  purchase_orders_created integer NOT NULL,
  summary text NOT NULL
);
CREATE INDEX orchestration_runs_tenant_id_idx ON orchestration_runs (tenant_id);

CREATE TABLE orchestration_actions (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  run_id uuid NOT NULL REFERENCES orchestration_runs (id),
  action_type text NOT NULL,
  production_batch_id uuid,
  purchase_order_id uuid,
  created_at timestamptz NOT NULL,
  details jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX orchestration_actions_tenant_id_idx ON orchestration_actions (tenant_id);
CREATE INDEX orchestration_actions_run_id_idx ON orchestration_actions (run_id);
