/**
 * The mailbox an email address delivers to, as the per-email cap counts it
 * (MAX_SESSIONS_PER_EMAIL): lower case (the case rule: `A@X.io` is `a@x.io`), and
 * the `+tag` of the local part removed (`a+1@x.io` is `a@x.io`), so plus-addressing
 * does not give one inbox more sessions. The local part is what comes before the last
 * `@`; a `+` at its very start is kept (nothing would be left of it). Stored as
 * `demo_sessions.email_mailbox` (migration demo_session/005_email_mailbox.sql, whose
 * backfill applies the same rule in SQL).
 */
export function emailMailbox(email: string): string {
  const lower = email.toLowerCase();
  const at = lower.lastIndexOf('@');
  if (at < 0) return lower;
  const local = lower.slice(0, at);
  const plus = local.indexOf('+');
  return plus > 0 ? `${local.slice(0, plus)}${lower.slice(at)}` : lower;
}
