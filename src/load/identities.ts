import type { IdentityKind } from '../catalog/tables.ts';
import { sessionKeyNibbles } from '../seed/ids.ts';
import {
  codeStem,
  EMAIL_DOMAIN_MAX,
  EMAIL_DOMAIN_RE,
  emailStem,
  SLUG_MAX,
  slugStem,
  TAG_LENGTH,
} from '../shared/identity-text.ts';

export {
  EMAIL_DOMAIN_MAX,
  EMAIL_DOMAIN_RE,
  EMAIL_LOCAL_MAX,
  EMAIL_MAX,
  isEmailAddress,
  SLUG_MAX,
} from '../shared/identity-text.ts';
export type { IdentityKind };

/**
 * Per-session values of the columns the catalog marks as identities (`identity` in
 * src/catalog/tables.ts): emails, slugs and external codes that a real platform keeps
 * unique across tenants. Each is the seed value's stem (src/shared/identity-text.ts)
 * with the session's tag, so it is
 * - deterministic: the same seed value and session give the same value on every retry
 *   (like the ids, it comes from the session's key, sessionKeyNibbles);
 * - distinct per session: the tag is the first 8 hex digits of the session's key, which
 *   are also the first 8 hex digits of every id of the session (its tenant ids
 *   included); two sessions share it with a chance of 2⁻³²;
 * - of a length that does not depend on the session (only on the seed value and, for
 *   emails, the domain).
 * Pure functions, no I/O.
 */

const HEX = '0123456789abcdef';

/** The 8 hex digits that tag a session's identities (lower case): the first 8 of each of its ids. */
export function sessionTag(sessionId: string): string {
  const key = sessionKeyNibbles(sessionId);
  let tag = '';
  for (let i = 0; i < TAG_LENGTH; i++) tag += HEX[key[i] as number];
  return tag;
}

/**
 * The session's address for a seed email: its local part made plain ASCII (emailStem),
 * a dot, the session's tag, `@domain`. `maria.garcia@panaderiasanmiguel.es` becomes
 * `maria.garcia.<tag>@demo.invalid`; the local part stays within 64 characters. Throws a
 * RangeError for a domain that is not a host name (EMAIL_DOMAIN_RE).
 */
export function sessionEmail(seedEmail: string, sessionId: string, domain: string): string {
  return taggedEmail(emailStem(seedEmail), sessionTag(sessionId), checkedDomain(domain));
}

/**
 * The session's slug for a seed slug: its stem (lower-case ASCII letters, digits and
 * single dashes), a dash and the session's tag, the stem shortened so that the whole
 * fits `maxLength` (default 63, a DNS label). `panaderia-san-miguel` becomes
 * `panaderia-san-miguel-<tag>`.
 */
export function sessionSlug(seed: string, sessionId: string, maxLength: number = SLUG_MAX): string {
  return taggedSlug(slugStem(seed, maxLength), sessionTag(sessionId));
}

/**
 * The session's value of an external code (`RUTA-00001` → `RUTA-00001-<TAG>`): the
 * seed, a dash and the tag (upper case when the seed has no lower-case letter), the
 * seed shortened to fit `maxLength` when one is given.
 */
export function sessionCode(seed: string, sessionId: string, maxLength?: number): string {
  return taggedCode(codeStem(seed, maxLength), seed, sessionTag(sessionId));
}

/**
 * The rewrite of one kind of identity for one session, as the loader applies it to
 * every value of a column (the tag computed once): `domain` is DEMO_EMAIL_DOMAIN.
 */
export function identityRewriter(
  kind: IdentityKind,
  sessionId: string,
  domain: string,
  maxLength?: number,
): (seed: string) => string {
  const tag = sessionTag(sessionId);
  switch (kind) {
    case 'email': {
      const host = checkedDomain(domain);
      return (seed) => taggedEmail(emailStem(seed), tag, host);
    }
    case 'slug':
      slugStem('', maxLength); // a bad length throws here, once
      return (seed) => taggedSlug(slugStem(seed, maxLength), tag);
    case 'code':
      codeStem('', maxLength);
      return (seed) => taggedCode(codeStem(seed, maxLength), seed, tag);
  }
}

function checkedDomain(domain: string): string {
  const host = domain.trim().toLowerCase();
  if (!EMAIL_DOMAIN_RE.test(host))
    throw new RangeError(`not an email domain: ${JSON.stringify(domain)} (a host name of at most ${EMAIL_DOMAIN_MAX})`);
  return host;
}

const taggedEmail = (stem: string, tag: string, host: string) => `${stem}.${tag}@${host}`;
const taggedSlug = (stem: string, tag: string) => (stem ? `${stem}-${tag}` : tag);
const taggedCode = (stem: string, seed: string, tag: string) => {
  const t = /[a-z]/.test(seed) ? tag : tag.toUpperCase();
  return stem ? `${stem}-${t}` : t;
};
