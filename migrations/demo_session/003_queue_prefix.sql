-- The queue prefix a session's jobs live under: a reconciler looks after its own
-- deployment's sessions only, even when two deployments share these databases.
ALTER TABLE demo_sessions ADD COLUMN queue_prefix text;
