-- Emails are unique across tenants, as the platform's auth service has them: an email names one user.
-- Rows loaded before emails were made per session (src/load/identities.ts) carry the profile's, shared by
-- every session: each such row gets the address a load gives it now, `<local part>.<tag>@demo.invalid`,
-- where a session's tag is the first 8 hex digits of its ids (so of its tenant ids), and the index can
-- then be built on a database that holds live sessions.
UPDATE users
   SET email = regexp_replace(lower(split_part(email, '@', 1)), '[^a-z0-9._+-]+', '-', 'g')
               || '.' || left(tenant_id::text, 8) || '@demo.invalid'
 WHERE email IN (SELECT email FROM users GROUP BY email HAVING count(*) > 1);
CREATE UNIQUE INDEX users_email_key ON users (email);
