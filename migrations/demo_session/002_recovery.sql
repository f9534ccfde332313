-- What the reconciler needs to rebuild a lost flow or cleanup (workers/reconciler.ts).
ALTER TABLE demo_sessions ADD COLUMN data_dir text;
ALTER TABLE demo_sessions ADD COLUMN ending text CHECK (ending IN ('destroyed', 'expired'));
CREATE INDEX demo_sessions_unfinished_idx ON demo_sessions (status, updated_at) WHERE status IN ('pending', 'loading', 'destroying');
