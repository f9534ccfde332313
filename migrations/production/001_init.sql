CREATE TABLE equipment (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  location_id uuid NOT NULL,
  name text NOT NULL,
  equipment_type text NOT NULL,
  capacity_per_hour numeric(12, 2) NOT NULL,
  status text NOT NULL,
  installed_on date NOT NULL
);
CREATE INDEX equipment_tenant_id_idx ON equipment (tenant_id);

CREATE TABLE production_batches (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  location_id uuid NOT NULL,
  product_id uuid NOT NULL,
  recipe_id uuid NOT NULL,
  equipment_id uuid NOT NULL REFERENCES equipment (id),
  batch_number text NOT NULL,
  status text NOT NULL,
  planned_quantity numeric(12, 2) NOT NULL,
  actual_quantity numeric(12, 2),
  planned_start timestamptz NOT NULL,
  planned_end timestamptz NOT NULL,
  actual_start timestamptz,
  actual_end timestamptz,
  yield_percentage numeric(5, 2),
  CHECK (planned_end > planned_start)
);
CREATE INDEX production_batches_tenant_id_idx ON production_batches (tenant_id);
CREATE INDEX production_batches_equipment_id_idx ON production_batches (equipment_id);
