/**
 * What the demo token costs a POST: `DemoAccess.issue` (one JWT signed per session, and
 * per replay or extension) for each key type, and `verify` (PATCH, introspection), in µs
 * per token over N tokens after a warm-up. In-process, no database or Redis: the key is
 * configured (DEMO_TOKEN_PRIVATE_KEY), as in production.
 *
 *   npx tsx bench/sign-tokens.ts [N]     (default 1000)
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { loadConfig } from '../src/config/env.ts';
import { DemoAccess } from '../src/sessions/access.ts';
import { SigningKeys } from '../src/sessions/signing-keys.ts';

const n = Math.max(1, Number(process.argv[2] ?? 1000) || 1000);

async function measure(label: string, keyPem: string): Promise<void> {
  const cfg = loadConfig({ DEMO_TOKEN_PRIVATE_KEY: keyPem });
  // A configured key never touches the database.
  const access = new DemoAccess(cfg, new SigningKeys(cfg, undefined as never));
  await access.ready();
  const record = {
    session_id: randomUUID(),
    tenant_id: randomUUID(),
    tenant_ids: [randomUUID()],
    expires_at: new Date(Math.floor(Date.now() / 1000 + 1800) * 1000),
  };
  const user = { id: randomUUID(), email: 'maria.garcia.0a1b2c3d@demo.invalid', role: 'owner' };
  for (let i = 0; i < 100; i++) await access.issue(record, user); // warm-up
  const tokens: string[] = [];
  let t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) tokens.push((await access.issue(record, user)).token);
  const signUs = Number(process.hrtime.bigint() - t) / 1000 / n;
  t = process.hrtime.bigint();
  for (const token of tokens) if (!(await access.verify(token))) throw new Error('a token did not verify');
  const verifyUs = Number(process.hrtime.bigint() - t) / 1000 / n;
  console.log(
    `${label.padEnd(16)} sign ${signUs.toFixed(1).padStart(7)} µs/token   verify ${verifyUs.toFixed(1).padStart(7)} µs/token   (${n} tokens, ${tokens[0]!.length} chars)`,
  );
}

const pem = (k: ReturnType<typeof generateKeyPairSync>['privateKey']) =>
  k.export({ type: 'pkcs8', format: 'pem' }) as string;
await measure('EdDSA (Ed25519)', pem(generateKeyPairSync('ed25519').privateKey));
await measure('ES256 (P-256)', pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey));
