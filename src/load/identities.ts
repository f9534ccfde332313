import type { IdentityKind } from '../catalog/tables.ts';
import { sessionKeyNibbles } from '../seed/ids.ts';
import { EMAIL_DOMAIN_MAX, EMAIL_DOMAIN_RE, EMAIL_LOCAL_MAX, EMAIL_MAX } from '../shared/email-domain.ts';

/**
 * Per-session values of the columns the catalog marks as identities (`identity` in
 * src/catalog/tables.ts): emails, slugs and external codes that a real platform keeps
 * unique across tenants. Each is the seed value with a tag of the session written in,
 * so it is
 * - deterministic: the same seed value and session give the same value on every retry
 *   (like the ids, it comes from the session's key, sessionKeyNibbles);
 * - distinct per session: the tag is the first 8 hex digits of the session's key, which
 *   are also the first 8 hex digits of every id of the session (its tenant ids included);
 *   two sessions share it with a chance of 2⁻³²;
 * - of a length that does not depend on the session (only on the seed value and, for
 *   emails, the domain).
 * Pure functions, no I/O.
 */

const HEX = '0123456789abcdef';

/** The 8 hex digits that tag a session's identities (lower case). */
export function sessionTag(sessionId: string): string {
  const key = sessionKeyNibbles(sessionId);
  let tag = '';
  for (let i = 0; i < 8; i++) tag += HEX[key[i] as number];
  return tag;
}

export { EMAIL_DOMAIN_MAX, EMAIL_DOMAIN_RE, EMAIL_LOCAL_MAX, EMAIL_MAX };

/**
 * What a valid address looks like here: a dot-atom local part of letters, digits and
 * `._+-` (no leading, trailing or doubled dot) and a host name, within RFC 5321's
 * lengths. The seed-data validator checks marked emails with it.
 */
export function isEmailAddress(value: string): boolean {
  const at = value.lastIndexOf('@');
  if (at <= 0 || value.length > EMAIL_MAX) return false;
  const local = value.slice(0, at);
  const domain = value.slice(at + 1).toLowerCase();
  return (
    local.length <= EMAIL_LOCAL_MAX &&
    /^[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*$/.test(local) &&
    /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/.test(domain) &&
    domain.length <= 253
  );
}

/** Lower case ASCII: accents taken off (`Núria` → `nuria`), anything else outside `keep` → `-`. */
function ascii(value: string, keep: RegExp): string {
  return value.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(keep, '-');
}

/**
 * The session's address for a seed email: its local part (made plain ASCII), a dot,
 * the session's tag, `@domain`. `maria.garcia@panaderiasanmiguel.es` becomes
 * `maria.garcia.<tag>@demo.invalid`. The local part is shortened so that it stays
 * within 64 characters. Throws a RangeError for a domain that is not a host name.
 */
export function sessionEmail(seedEmail: string, sessionId: string, domain: string): string {
  return emailWithTag(seedEmail, sessionTag(sessionId), domain);
}

function emailWithTag(seedEmail: string, tag: string, domain: string): string {
  const host = domain.trim().toLowerCase();
  if (!EMAIL_DOMAIN_RE.test(host))
    throw new RangeError(`not an email domain: ${JSON.stringify(domain)} (a host name of at most ${EMAIL_DOMAIN_MAX})`);
  const at = seedEmail.lastIndexOf('@');
  const seedLocal = at < 0 ? seedEmail : seedEmail.slice(0, at);
  let local = ascii(seedLocal, /[^a-z0-9._+-]+/g)
    .replace(/\.{2,}/g, '.')
    .replace(/^[.]+|[.]+$/g, '');
  local = local.slice(0, EMAIL_LOCAL_MAX - tag.length - 1).replace(/[.]+$/, '');
  return `${local || 'user'}.${tag}@${host}`;
}

/** Slugs are DNS labels (a subdomain may be made of one): at most 63 characters. */
export const SLUG_MAX = 63;

/**
 * The session's slug for a seed slug: the seed (lower-case ASCII letters, digits and
 * single `-`), a dash and the session's tag, the seed shortened so that the whole fits
 * `maxLength` (default 63, a DNS label). `panaderia-san-miguel` becomes
 * `panaderia-san-miguel-<tag>`.
 */
export function sessionSlug(seed: string, sessionId: string, maxLength: number = SLUG_MAX): string {
  return slugWithTag(seed, sessionTag(sessionId), maxLength);
}

function slugWithTag(seed: string, tag: string, maxLength: number): string {
  if (!Number.isInteger(maxLength) || maxLength < tag.length)
    throw new RangeError(`a slug needs at least ${tag.length} characters, got ${maxLength}`);
  let base = ascii(seed, /[^a-z0-9]+/g).replace(/^-+|-+$/g, '');
  const room = maxLength - tag.length - 1;
  if (room <= 0) return tag;
  base = base.slice(0, room).replace(/-+$/, '');
  return base ? `${base}-${tag}` : tag;
}

/**
 * The session's value of an external code (`RUTA-00001` → `RUTA-00001-<TAG>`): the
 * seed as it is, a dash and the tag (upper case when the seed has no lower-case
 * letter), the seed shortened to fit `maxLength` when one is given.
 */
export function sessionCode(seed: string, sessionId: string, maxLength?: number): string {
  return codeWithTag(seed, sessionTag(sessionId), maxLength);
}

function codeWithTag(seed: string, raw: string, maxLength?: number): string {
  const tag = /[a-z]/.test(seed) ? raw : raw.toUpperCase();
  if (maxLength === undefined) return `${seed}-${tag}`;
  if (!Number.isInteger(maxLength) || maxLength < tag.length)
    throw new RangeError(`a code needs at least ${tag.length} characters, got ${maxLength}`);
  const room = maxLength - tag.length - 1;
  return room <= 0 ? tag : `${seed.slice(0, room)}-${tag}`;
}

export type { IdentityKind };

/**
 * The rewrite of one kind of identity for one session, as the loader applies it:
 * `domain` is DEMO_EMAIL_DOMAIN.
 */
export function identityRewriter(
  kind: IdentityKind,
  sessionId: string,
  domain: string,
  maxLength?: number,
): (seed: string) => string {
  const tag = sessionTag(sessionId);
  switch (kind) {
    case 'email':
      emailWithTag('x', tag, domain); // a bad domain throws here, once
      return (seed) => emailWithTag(seed, tag, domain);
    case 'slug':
      return (seed) => slugWithTag(seed, tag, maxLength ?? SLUG_MAX);
    case 'code':
      return (seed) => codeWithTag(seed, tag, maxLength);
  }
}
