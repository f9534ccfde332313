import type { Express } from 'express';

/** What Express' `trust proxy` setting accepts. */
export type TrustProxy = boolean | number | string[];

/**
 * TRUST_PROXY as Express' `trust proxy`: `false` (default: the client is the
 * socket's peer), `true` (trust every proxy: only behind one you control), a
 * number of hops, or a comma-separated list of addresses/subnets (and Express'
 * names `loopback`, `linklocal`, `uniquelocal`).
 */
export function parseTrustProxy(value: string): TrustProxy {
  const v = value.trim().toLowerCase();
  if (v === '' || v === 'false') return false;
  if (v === 'true') return true;
  if (/^\d+$/.test(v)) return Number(v);
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Sets `trust proxy`; a bad subnet list fails here, at start, with the variable's name. */
export function applyTrustProxy(app: Express, value: string): void {
  try {
    app.set('trust proxy', parseTrustProxy(value));
  } catch (err) {
    throw new Error(
      `TRUST_PROXY=${JSON.stringify(value)}: ${(err as Error).message} (expected false, true, a number of hops or a comma-separated list of addresses/subnets)`,
    );
  }
}
