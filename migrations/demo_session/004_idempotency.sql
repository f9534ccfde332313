-- A client's Idempotency-Key on POST: a retried request answers with the session the
-- first one made (the fingerprint tells a retry from another request under the same key).
ALTER TABLE demo_sessions ADD COLUMN idempotency_key text, ADD COLUMN request_fingerprint text;
CREATE UNIQUE INDEX demo_sessions_idempotency_key_idx ON demo_sessions (idempotency_key) WHERE idempotency_key IS NOT NULL;
