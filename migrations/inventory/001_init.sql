CREATE TABLE locations (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  name text NOT NULL,
  location_type text NOT NULL,
  address text NOT NULL,
  city text NOT NULL,
  latitude numeric(9, 6) NOT NULL,
  longitude numeric(9, 6) NOT NULL
);
CREATE INDEX locations_tenant_id_idx ON locations (tenant_id);

CREATE TABLE ingredients (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  sku text NOT NULL,
  name text NOT NULL,
  category text NOT NULL,
  unit text NOT NULL,
  cost_per_unit numeric(12, 4) NOT NULL CHECK (cost_per_unit >= 0),
  reorder_point numeric(12, 3) NOT NULL,
  shelf_life_days integer NOT NULL
);
CREATE INDEX ingredients_tenant_id_idx ON ingredients (tenant_id);

CREATE TABLE products (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  sku text NOT NULL,
  name text NOT NULL,
  category text NOT NULL,
  unit_price numeric(12, 2) NOT NULL CHECK (unit_price >= 0),
  shelf_life_days integer NOT NULL
);
CREATE INDEX products_tenant_id_idx ON products (tenant_id);

CREATE TABLE stock (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  location_id uuid NOT NULL REFERENCES locations (id),
  ingredient_id uuid REFERENCES ingredients (id),
  product_id uuid REFERENCES products (id),
  quantity numeric(14, 3) NOT NULL,
  unit text NOT NULL,
  batch_code text NOT NULL,
  expiry_date date,
  updated_at timestamptz NOT NULL,
  CHECK ((ingredient_id IS NULL) <> (product_id IS NULL))
);
CREATE INDEX stock_tenant_id_idx ON stock (tenant_id);
CREATE INDEX stock_location_id_idx ON stock (location_id);
CREATE INDEX stock_ingredient_id_idx ON stock (ingredient_id);
CREATE INDEX stock_product_id_idx ON stock (product_id);
