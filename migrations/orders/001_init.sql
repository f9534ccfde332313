CREATE TABLE customers (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  name text NOT NULL,
  email text NOT NULL,
  phone text NOT NULL,
  customer_type text NOT NULL,
  city text NOT NULL
);
CREATE INDEX customers_tenant_id_idx ON customers (tenant_id);

CREATE TABLE customer_orders (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  customer_id uuid NOT NULL REFERENCES customers (id),
  location_id uuid NOT NULL,
  order_number text NOT NULL,
  status text NOT NULL,
  order_date date NOT NULL,
  delivery_date date NOT NULL,
  total_amount numeric(14, 2) NOT NULL
);
CREATE INDEX customer_orders_tenant_id_idx ON customer_orders (tenant_id);
CREATE INDEX customer_orders_customer_id_idx ON customer_orders (customer_id);

CREATE TABLE customer_order_items (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  order_id uuid NOT NULL REFERENCES customer_orders (id),
  product_id uuid NOT NULL,
  quantity numeric(12, 2) NOT NULL,
  unit_price numeric(12, 2) NOT NULL,
  line_total numeric(14, 2) NOT NULL
);
CREATE INDEX customer_order_items_tenant_id_idx ON customer_order_items (tenant_id);
CREATE INDEX customer_order_items_order_id_idx ON customer_order_items (order_id);

-- Distribution (enterprise): routes from the central production site to the outlets.
CREATE TABLE delivery_routes (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  origin_location_id uuid NOT NULL,
  route_code text NOT NULL,
  route_date date NOT NULL,
  vehicle text NOT NULL,
  driver_name text NOT NULL,
  total_distance_km numeric(9, 2) NOT NULL,
  status text NOT NULL
);
CREATE INDEX delivery_routes_tenant_id_idx ON delivery_routes (tenant_id);

CREATE TABLE route_stops (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  route_id uuid NOT NULL REFERENCES delivery_routes (id),
  location_id uuid NOT NULL,
  outlet_tenant_id uuid NOT NULL,
  stop_sequence integer NOT NULL CHECK (stop_sequence > 0),
  planned_arrival timestamptz NOT NULL,
  distance_from_previous_km numeric(9, 2) NOT NULL,
  UNIQUE (route_id, stop_sequence)
);
CREATE INDEX route_stops_tenant_id_idx ON route_stops (tenant_id);

CREATE TABLE shipments (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  route_id uuid NOT NULL REFERENCES delivery_routes (id),
  stop_id uuid NOT NULL REFERENCES route_stops (id),
  product_id uuid NOT NULL,
  quantity numeric(12, 2) NOT NULL,
  shipped_at timestamptz NOT NULL,
  status text NOT NULL
);
CREATE INDEX shipments_tenant_id_idx ON shipments (tenant_id);
CREATE INDEX shipments_route_id_idx ON shipments (route_id);
CREATE INDEX shipments_stop_id_idx ON shipments (stop_id);
