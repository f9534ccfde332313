CREATE TABLE recipes (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  product_id uuid NOT NULL,
  name text NOT NULL,
  version integer NOT NULL,
  yield_quantity numeric(12, 3) NOT NULL CHECK (yield_quantity > 0),
  yield_unit text NOT NULL,
  prep_time_minutes integer NOT NULL,
  bake_time_minutes integer NOT NULL,
  instructions text NOT NULL
);
CREATE INDEX recipes_tenant_id_idx ON recipes (tenant_id);

CREATE TABLE recipe_ingredients (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  recipe_id uuid NOT NULL REFERENCES recipes (id),
  ingredient_id uuid NOT NULL,
  quantity numeric(12, 4) NOT NULL CHECK (quantity > 0),
  unit text NOT NULL
);
CREATE INDEX recipe_ingredients_tenant_id_idx ON recipe_ingredients (tenant_id);
CREATE INDEX recipe_ingredients_recipe_id_idx ON recipe_ingredients (recipe_id);
