/**
 * The text rules of per-session identities (src/load/identities.ts), apart from the
 * session: what a valid address and email domain are, and the part of an email, slug
 * or code that does not depend on the session (its stem). Two seed values with the same
 * stem get the same value in every session, which the seed-data validator refuses for
 * the columns a platform keeps unique.
 */

/** The longest local part (before the `@`) and the longest address (RFC 5321). */
export const EMAIL_LOCAL_MAX = 64;
export const EMAIL_MAX = 254;
/** The longest domain an address can have once its local part is at its longest. */
export const EMAIL_DOMAIN_MAX = EMAIL_MAX - EMAIL_LOCAL_MAX - 1;
/** How long a session's tag is (hex digits). */
export const TAG_LENGTH = 8;
/** Slugs are DNS labels (a subdomain may be made of one): at most 63 characters. */
export const SLUG_MAX = 63;

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
/**
 * A domain seeded emails may have (DEMO_EMAIL_DOMAIN): a lower-case DNS host name of two
 * labels or more (`demo.invalid`, `demo.example.com`), short enough for any local part.
 */
export const EMAIL_DOMAIN_RE = new RegExp(`^(?=.{1,${EMAIL_DOMAIN_MAX}}$)${LABEL}(?:\\.${LABEL})+$`);
const HOST_RE = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})+$`);
const LOCAL_RE = /^[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*$/;
const PLAIN_SLUG_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const PLAIN_LOCAL_RE = /^[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*$/;

/**
 * What a valid address is here: a dot-atom local part of letters, digits and `._+-`
 * (no leading, trailing or doubled dot), an `@` and a host name of two labels or more,
 * within RFC 5321's lengths.
 */
export function isEmailAddress(value: string): boolean {
  const at = value.lastIndexOf('@');
  if (at <= 0 || value.length > EMAIL_MAX) return false;
  const local = value.slice(0, at);
  return local.length <= EMAIL_LOCAL_MAX && LOCAL_RE.test(local) && HOST_RE.test(value.slice(at + 1).toLowerCase());
}

/** Lower-case ASCII: accents taken off (`Núria` → `nuria`), runs of anything not in `keep` → `-`. */
function ascii(value: string, drop: RegExp): string {
  return value.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(drop, '-');
}

/**
 * An email's stem: its local part (before the last `@`) made plain lower-case ASCII
 * (letters, digits, `._+-`, no leading, trailing or doubled dot), short enough that a
 * dot and the tag keep it within 64 characters; `user` when nothing is left.
 */
export function emailStem(seedEmail: string): string {
  const at = seedEmail.lastIndexOf('@');
  const raw = at < 0 ? seedEmail : seedEmail.slice(0, at);
  // Most seed addresses are plain already: no normalising for them.
  if (raw.length <= EMAIL_LOCAL_MAX - TAG_LENGTH - 1 && PLAIN_LOCAL_RE.test(raw)) return raw;
  const local = ascii(raw, /[^a-z0-9._+-]+/g)
    .replace(/\.{2,}/g, '.')
    .replace(/^\.+|\.+$/g, '')
    .slice(0, EMAIL_LOCAL_MAX - TAG_LENGTH - 1)
    .replace(/\.+$/, '');
  return local || 'user';
}

/**
 * A slug's stem: lower-case ASCII letters and digits in runs joined by single dashes,
 * short enough that a dash and the tag keep it within `maxLength` (empty when there is
 * no room or nothing is left: the slug is then the tag alone).
 */
export function slugStem(seed: string, maxLength: number = SLUG_MAX): string {
  if (!Number.isInteger(maxLength) || maxLength < TAG_LENGTH)
    throw new RangeError(`a slug needs at least ${TAG_LENGTH} characters, got ${maxLength}`);
  if (seed.length <= maxLength - TAG_LENGTH - 1 && PLAIN_SLUG_RE.test(seed)) return seed;
  return ascii(seed, /[^a-z0-9]+/g)
    .replace(/^-+|-+$/g, '')
    .slice(0, Math.max(0, maxLength - TAG_LENGTH - 1))
    .replace(/-+$/, '');
}

/** A code's stem: the seed as it is, shortened so that a dash and the tag fit `maxLength` when one is given. */
export function codeStem(seed: string, maxLength?: number): string {
  if (maxLength === undefined) return seed;
  if (!Number.isInteger(maxLength) || maxLength < TAG_LENGTH)
    throw new RangeError(`a code needs at least ${TAG_LENGTH} characters, got ${maxLength}`);
  return seed.slice(0, Math.max(0, maxLength - TAG_LENGTH - 1));
}
