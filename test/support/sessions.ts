import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { insertSession, type SessionRecord } from '../../src/db/sql/sessions.ts';
import path from 'node:path';
import type { Manifest } from '../../src/seed/profile.ts';
import type { SessionView } from '../../src/sessions/session-view.ts';
import type { Harness } from './harness.ts';
import { eventually } from './harness.ts';

export const SEED_DATA = path.resolve('seed-data');

export async function readManifest(profile: string, dataDir = SEED_DATA): Promise<Manifest> {
  return JSON.parse(await readFile(path.join(dataDir, profile, 'manifest.json'), 'utf8')) as Manifest;
}

/** Every record of every data file of a profile, parsed (NDJSON included). */
export async function profileRecords(profile: string, dataDir = SEED_DATA): Promise<unknown[]> {
  const manifest = await readManifest(profile, dataDir);
  const out: unknown[] = [];
  for (const file of manifest.files) {
    const text = await readFile(path.join(dataDir, profile, file), 'utf8');
    if (file.endsWith('.ndjson'))
      out.push(
        ...text
          .split('\n')
          .filter(Boolean)
          .slice(1)
          .map((l) => JSON.parse(l)),
      );
    else out.push(JSON.parse(text));
  }
  return out;
}

const FINAL = ['ready', 'failed', 'destroyed', 'expired'];

/** Creates a session through the producer and waits for it to end loading. */
export async function createAndWait(
  h: Harness,
  profile: string,
  opts: { dataDir?: string; timeoutMs?: number } = {},
): Promise<SessionView> {
  const s = await h.rt.producer.create({ profile, dataDir: opts.dataDir });
  return waitForEnd(h, s.session_id, opts.timeoutMs);
}

export async function waitForEnd(h: Harness, sessionId: string, timeoutMs = 60_000): Promise<SessionView> {
  return eventually(
    async () => {
      const v = await h.rt.producer.view(sessionId);
      return v && FINAL.includes(v.status) ? v : undefined;
    },
    timeoutMs,
    `session ${sessionId} to finish loading`,
  );
}

/** Records a session without enqueuing its flow (it stays pending unless a test enqueues it). */
export async function recordSession(
  h: Harness,
  over: Partial<Parameters<typeof insertSession>[1]> = {},
): Promise<SessionRecord> {
  const now = new Date();
  const tenant = randomUUID();
  const record = await insertSession(h.rt.dbs.pool('demo_session'), {
    session_id: randomUUID(),
    demo_account_type: 'professional',
    email: null,
    subscription_tier: null,
    tenant_id: tenant,
    tenant_ids: [tenant],
    created_at: now,
    expires_at: new Date(now.getTime() + 60_000),
    data_dir: null,
    queue_prefix: h.cfg.QUEUE_PREFIX,
    ...over,
  });
  if (!record) throw new Error(`recordSession: idempotency key ${String(over.idempotency_key)} is taken`);
  return record;
}
