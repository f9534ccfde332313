-- Slugs are unique across tenants (a slug may name a tenant's subdomain). Tenants loaded before slugs
-- were made per session (src/load/identities.ts) carry the profile's, shared by every session: each such
-- tenant gets the slug a load gives it now, `<slug>-<tag>` within 63 characters, where a session's tag is
-- the first 8 hex digits of its ids, and the index can then be built on a database that holds live sessions.
UPDATE tenants
   SET slug = rtrim(left(slug, 54), '-') || '-' || left(id::text, 8)
 WHERE slug IN (SELECT slug FROM tenants GROUP BY slug HAVING count(*) > 1);
CREATE UNIQUE INDEX tenants_slug_key ON tenants (slug);
