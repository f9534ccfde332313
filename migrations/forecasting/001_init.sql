CREATE TABLE forecast_models (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  product_id uuid NOT NULL,
  location_id uuid NOT NULL,
  algorithm text NOT NULL,
  trained_at timestamptz NOT NULL,
  training_days integer NOT NULL,
  mape numeric(6, 3) NOT NULL
);
CREATE INDEX forecast_models_tenant_id_idx ON forecast_models (tenant_id);

CREATE TABLE forecasts (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  model_id uuid NOT NULL REFERENCES forecast_models (id),
  product_id uuid NOT NULL,
  location_id uuid NOT NULL,
  forecast_date date NOT NULL,
  predicted_quantity numeric(12, 2) NOT NULL,
  lower_bound numeric(12, 2) NOT NULL,
  upper_bound numeric(12, 2) NOT NULL,
  CHECK (lower_bound <= predicted_quantity AND predicted_quantity <= upper_bound)
);
CREATE INDEX forecasts_tenant_id_idx ON forecasts (tenant_id);
CREATE INDEX forecasts_model_id_idx ON forecasts (model_id);
