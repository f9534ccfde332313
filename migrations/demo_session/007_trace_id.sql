-- The OpenTelemetry trace of the request that created the session (null when tracing
-- is off): an operator goes from a failed session to its trace.
ALTER TABLE demo_sessions ADD COLUMN trace_id text;
