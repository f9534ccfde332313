/** The longest local part (before the `@`) and the longest address (RFC 5321). */
export const EMAIL_LOCAL_MAX = 64;
export const EMAIL_MAX = 254;
/** The longest domain an address can have once its local part is at its longest. */
export const EMAIL_DOMAIN_MAX = EMAIL_MAX - EMAIL_LOCAL_MAX - 1;

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
/**
 * A domain seeded emails may have (DEMO_EMAIL_DOMAIN): a lower-case DNS host name of two
 * labels or more (`demo.invalid`, `demo.example.com`), short enough for any local part.
 */
export const EMAIL_DOMAIN_RE = new RegExp(`^(?=.{1,${EMAIL_DOMAIN_MAX}}$)${LABEL}(?:\\.${LABEL})+$`);
