CREATE TABLE sales_daily (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  location_id uuid NOT NULL,
  product_id uuid NOT NULL,
  sale_date date NOT NULL,
  quantity_sold integer NOT NULL,
  revenue numeric(14, 2) NOT NULL,
  waste_quantity integer NOT NULL,
  channel text NOT NULL
);
CREATE INDEX sales_daily_tenant_id_idx ON sales_daily (tenant_id);
