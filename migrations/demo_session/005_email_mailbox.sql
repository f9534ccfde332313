-- The mailbox of a session's email as the per-email cap counts it (src/producer/email-mailbox.ts):
-- lower case, the +tag of the local part (before the last @) removed, so `A+1@X.io` is `a@x.io`.
-- Written with each new session; the rows before this migration get it here, by the same rule.
-- The cap counts a mailbox's live sessions under an advisory lock of the mailbox, in the
-- transaction that inserts the session (session-store.ts insertSessionWithinCap).
ALTER TABLE demo_sessions ADD COLUMN email_mailbox text;
UPDATE demo_sessions SET email_mailbox = regexp_replace(lower(email), '^([^+]+)\+.*(@[^@]*)$', '\1\2') WHERE email IS NOT NULL;
CREATE INDEX demo_sessions_email_mailbox_idx ON demo_sessions (email_mailbox) WHERE email_mailbox IS NOT NULL;
