-- One row per session that touched this database: it makes a load exactly-once.
-- A load inserts its row first, in the same transaction as its COPYs, so a second
-- run of the same job waits for the first and then skips (its INSERT conflicts);
-- a cleanup turns the row into a tombstone ('destroyed') so a late run loads nothing.
CREATE SCHEMA IF NOT EXISTS demo_seed;

CREATE TABLE demo_seed.session_loads (
  session_id uuid PRIMARY KEY,
  state text NOT NULL CHECK (state IN ('loaded', 'destroyed')),
  rows jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX session_loads_destroyed_idx ON demo_seed.session_loads (updated_at) WHERE state = 'destroyed';
