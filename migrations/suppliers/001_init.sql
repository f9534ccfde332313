CREATE TABLE suppliers (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  name text NOT NULL,
  contact_email text NOT NULL,
  phone text NOT NULL,
  city text NOT NULL,
  lead_time_days integer NOT NULL,
  rating numeric(3, 2) NOT NULL
);
CREATE INDEX suppliers_tenant_id_idx ON suppliers (tenant_id);

CREATE TABLE supplier_price_lists (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  supplier_id uuid NOT NULL REFERENCES suppliers (id),
  ingredient_sku text NOT NULL,
  item_name text NOT NULL,
  unit text NOT NULL,
  unit_price numeric(12, 4) NOT NULL,
  min_order_quantity numeric(12, 3) NOT NULL,
  valid_from date NOT NULL
);
CREATE INDEX supplier_price_lists_tenant_id_idx ON supplier_price_lists (tenant_id);
CREATE INDEX supplier_price_lists_supplier_id_idx ON supplier_price_lists (supplier_id);
