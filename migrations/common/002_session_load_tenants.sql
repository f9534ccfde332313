-- The tenants a session's load put into this database, written by the load's claim
-- (the same INSERT, in the same transaction as its COPYs) and kept by the tombstone.
-- A cleanup deletes only rows of tenants that the session's marker here records, so
-- a tenant id no load recorded (a customer's) is never deleted, whatever a job says.
-- Markers written before this column existed record none: their rows stay.
ALTER TABLE demo_seed.session_loads ADD COLUMN tenant_ids uuid[];
