import type pg from 'pg';

/** The generated signing key in bakery_demo_session (migration 006): one named function per statement. */
export interface StoredSigningKey {
  name: string;
  kid: string;
  alg: 'EdDSA' | 'ES256';
  private_jwk: Record<string, unknown>;
  public_jwk: Record<string, unknown>;
  created_at: Date;
}

export type NewSigningKey = Pick<StoredSigningKey, 'name' | 'kid' | 'alg' | 'private_jwk' | 'public_jwk'>;

/**
 * Offers a key for the slot `name` and returns the slot's key: the one offered when the
 * slot was empty, else the one already there. One statement: ON CONFLICT DO UPDATE locks
 * and returns the row another process committed meanwhile (DO NOTHING would return
 * nothing, and a second SELECT would be needed), and the no-op SET leaves it as it was.
 */
export async function keepSigningKey(db: pg.Pool, k: NewSigningKey): Promise<StoredSigningKey> {
  const { rows } = await db.query<StoredSigningKey>(
    `INSERT INTO signing_keys (name, kid, alg, private_jwk, public_jwk) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (name) DO UPDATE SET name = signing_keys.name RETURNING *`,
    [k.name, k.kid, k.alg, JSON.stringify(k.private_jwk), JSON.stringify(k.public_jwk)],
  );
  return rows[0] as StoredSigningKey;
}
