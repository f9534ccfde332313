CREATE TABLE purchase_orders (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  supplier_id uuid NOT NULL,
  location_id uuid NOT NULL,
  created_by uuid NOT NULL,
  po_number text NOT NULL,
  status text NOT NULL,
  order_date date NOT NULL,
  expected_delivery_date date NOT NULL,
  received_date date,
  total_amount numeric(14, 2) NOT NULL,
  notes text
);
CREATE INDEX purchase_orders_tenant_id_idx ON purchase_orders (tenant_id);

CREATE TABLE purchase_order_items (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  purchase_order_id uuid NOT NULL REFERENCES purchase_orders (id),
  ingredient_id uuid NOT NULL,
  quantity numeric(12, 3) NOT NULL,
  unit text NOT NULL,
  unit_price numeric(12, 4) NOT NULL,
  line_total numeric(14, 2) NOT NULL
);
CREATE INDEX purchase_order_items_tenant_id_idx ON purchase_order_items (tenant_id);
CREATE INDEX purchase_order_items_purchase_order_id_idx ON purchase_order_items (purchase_order_id);
