import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../src/api/server.ts';
import { createRuntime, type Runtime } from '../../src/runtime/runtime.ts';
import { emailMailbox } from '../../src/shared/mailbox.ts';
import { LIVE_STATUSES, markGone } from '../../src/db/sql/sessions.ts';
import { redisReady } from '../../src/redis/connection.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { runCli, type ServiceProcess } from '../support/processes.ts';
import { recordSession } from '../support/sessions.ts';
import { expectErrorShape, PATH, startTestApi } from './helpers.ts';

/**
 * The per-email cap (MAX_SESSIONS_PER_EMAIL = 5) across API instances: one mailbox for
 * every +tag and letter case, counted in PostgreSQL with the insert, so two instances
 * posting at once cannot let more through than the cap. No workers: the sessions stay
 * pending, which is live.
 */

const MAX = 5;
/** `A@X.io` and `a+1@x.io` … `a+9@x.io` for `name` a (another name for another mailbox). */
const emailsOf = (name: string) => [
  `${name.toUpperCase()}@X.io`,
  ...Array.from({ length: 9 }, (_, i) => `${name}+${i + 1}@x.io`),
];

interface Endpoint {
  readonly url: string;
}

async function post(api: Endpoint, email: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${api.url}${PATH}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ demo_account_type: 'professional', email }),
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    body: JSON.parse(text) as Record<string, unknown> & { error?: { code: string } },
    headers: Object.fromEntries(res.headers),
  };
}

describe('HTTP API: the per-email cap across API instances', () => {
  let h: Harness;
  let second: Runtime;
  let apis: RunningApi[];

  /** Live sessions of a mailbox as bakery_demo_session holds them, by the stored mailbox and by the raw emails. */
  async function liveOf(name: string): Promise<{ byMailbox: number; byEmail: number }> {
    const { rows } = await h.rt.dbs.pool('demo_session').query<{ by_mailbox: number; by_email: number }>(
      `SELECT count(*) FILTER (WHERE email_mailbox = $1)::int AS by_mailbox,
              count(*) FILTER (WHERE lower(email) ~ $2)::int AS by_email
       FROM demo_sessions WHERE status = ANY($3::text[]) AND expires_at > now()`,
      [`${name}@x.io`, `^${name}(\\+[^@]*)?@x\\.io$`, LIVE_STATUSES],
    );
    return { byMailbox: rows[0]!.by_mailbox, byEmail: rows[0]!.by_email };
  }

  beforeAll(async () => {
    h = await createHarness();
    // Two instances, each with its own producer, pools and Redis connection, as two replicas would have.
    second = createRuntime(h.cfg, h.rt.log);
    await redisReady(second.redis);
    const cfg = { RATE_LIMIT_PER_MINUTE: 0, MAX_SESSIONS_PER_EMAIL: MAX };
    apis = [await startTestApi(h, cfg), await startTestApi(h, cfg, { runtime: second })];
  });
  afterAll(async () => {
    await Promise.all((apis ?? []).map((a) => a.close()));
    await second?.close();
    await h?.close();
  });

  it('A@X.io and a+1@x.io … a+9@x.io, each posted to both instances at once: 5 sessions, the rest 429', async () => {
    for (const name of ['a', 'b', 'c']) {
      const answers = await Promise.all(emailsOf(name).flatMap((email) => apis.map((api) => post(api, email))));
      const accepted = answers.filter((r) => r.status === 202);
      expect(accepted, answers.map((r) => `${r.status} ${r.text}`).join('\n')).toHaveLength(MAX);
      const refused = answers.filter((r) => r.status !== 202);
      expect(refused).toHaveLength(20 - MAX);
      for (const r of refused) expectErrorShape(r, 429, 'too_many_sessions');
      expect(await liveOf(name)).toEqual({ byMailbox: MAX, byEmail: MAX });
    }
  });

  it('a session that ends (destroyed, expired, failed) no longer counts; another mailbox is not affected', async () => {
    const name = 'd';
    await Promise.all(
      emailsOf(name)
        .slice(0, MAX)
        .map((email, i) => post(apis[i % 2]!, email)),
    );
    expect((await liveOf(name)).byMailbox).toBe(MAX);
    expectErrorShape(await post(apis[0]!, `${name}+more@x.io`), 429, 'too_many_sessions');
    expect((await post(apis[1]!, 'e+1@x.io')).status).toBe(202);
    const { rows } = await h.rt.dbs
      .pool('demo_session')
      .query<{ session_id: string }>(`SELECT session_id FROM demo_sessions WHERE email_mailbox = $1 LIMIT 3`, [
        `${name}@x.io`,
      ]);
    await markGone(h.rt.dbs.pool('demo_session'), rows[0]!.session_id, 'destroyed');
    await markGone(h.rt.dbs.pool('demo_session'), rows[1]!.session_id, 'expired');
    await h.rt.dbs
      .pool('demo_session')
      .query(`UPDATE demo_sessions SET status = 'failed' WHERE session_id = $1`, [rows[2]!.session_id]);
    const again = await Promise.all(
      [1, 2, 3, 4].map((i) => post(apis[i % 2]!, `${name.toUpperCase()}+again${i}@X.IO`)),
    );
    expect(again.map((r) => r.status).sort()).toEqual([202, 202, 202, 429]);
    expect((await liveOf(name)).byMailbox).toBe(MAX);
  });

  it('a request retried under its Idempotency-Key, at once on both instances, is one session, never refused by the cap', async () => {
    const name = 'f';
    await Promise.all(
      emailsOf(name)
        .slice(0, MAX - 1)
        .map((email) => post(apis[0]!, email)),
    );
    const key = randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => post(apis[i % 2]!, `${name}+key@x.io`, { 'Idempotency-Key': key })),
    );
    expect(
      answers.map((r) => r.status),
      answers.map((r) => r.text).join('\n'),
    ).toEqual([202, 202, 202, 202, 202, 202]);
    expect(new Set(answers.map((r) => r.body.session_id)).size).toBe(1);
    expect((await liveOf(name)).byMailbox).toBe(MAX);
    // The cap is reached now: a new request (another key) is refused.
    expectErrorShape(
      await post(apis[1]!, `${name}@x.io`, { 'Idempotency-Key': randomUUID() }),
      429,
      'too_many_sessions',
    );
  });

  it('the migration fills email_mailbox of earlier rows by the same rule as emailMailbox()', async () => {
    const migration = readFileSync(path.resolve('migrations/demo_session/005_email_mailbox.sql'), 'utf8');
    const backfill = /^UPDATE demo_sessions SET email_mailbox = .*;$/m.exec(migration)?.[0];
    expect(backfill).toBeDefined();
    const part = (chars: string, min: number) =>
      fc.string({ unit: fc.constantFrom(...chars.split('')), minLength: min, maxLength: 10 });
    const emails = fc.sample(
      fc
        .tuple(part('abcXYZ09_-.+', 1), fc.option(part('abcXYZ09_-.+', 0)), part('abcXYZ09-+', 1))
        .map(([l, t, d]) => `${l}${t === null ? '' : `+${t}`}@${d}.io`),
      { numRuns: 300, seed: 18 },
    );
    emails.push('A+1@X.io', 'a@x+y.io', '+a@x.io', 'a++b@x.io');
    const db = h.rt.dbs.pool('demo_session');
    const ids: string[] = [];
    for (const email of emails) {
      const r = await recordSession(h, { email });
      ids.push(r.session_id);
    }
    // As rows from before the migration: no mailbox yet.
    await db.query('UPDATE demo_sessions SET email_mailbox = NULL WHERE session_id = ANY($1::uuid[])', [ids]);
    await db.query(backfill!);
    const { rows } = await db.query<{ email: string; email_mailbox: string }>(
      'SELECT email, email_mailbox FROM demo_sessions WHERE session_id = ANY($1::uuid[])',
      [ids],
    );
    expect(rows).toHaveLength(emails.length);
    for (const r of rows) expect(r.email_mailbox, r.email).toBe(emailMailbox(r.email));
    await db.query('DELETE FROM demo_sessions WHERE session_id = ANY($1::uuid[])', [ids]);
  });
});

describe('the per-email cap across two `demo-seed api` processes', () => {
  let h: Harness;
  let procs: ServiceProcess[] = [];

  /** Starts `demo-seed api` on a free port of 127.0.0.1; resolves with its URL once it is ready. */
  async function startApiProcess(env: NodeJS.ProcessEnv): Promise<{ url: string; proc: ServiceProcess }> {
    const proc = runCli(['api'], {
      ...env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      RATE_LIMIT_PER_MINUTE: '0',
      MAX_SESSIONS_PER_EMAIL: String(MAX),
    });
    procs.push(proc);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)".*HTTP API listening/.exec(proc.output());
      // Listening, and its Redis and databases answer (a POST before that is 503).
      if (
        m &&
        (await fetch(`${m[1]!}/readyz`).then(
          (r) => r.status === 200,
          () => false,
        ))
      )
        return { url: m[1]!, proc };
      if (proc.child.exitCode !== null) throw new Error(`demo-seed api exited early:\n${proc.output()}`);
      if (Date.now() > deadline) throw new Error(`demo-seed api did not start:\n${proc.output()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    procs = [];
    await h?.close();
  });

  it('A@X.io and a+1@x.io … a+9@x.io, each posted to both processes at once: 5 live sessions in bakery_demo_session, the rest 429', async () => {
    const apis = await Promise.all([startApiProcess(h.env), startApiProcess(h.env)]);
    const answers = await Promise.all(emailsOf('a').flatMap((email) => apis.map((api) => post(api, email))));
    expect(
      answers.filter((r) => r.status === 202),
      answers.map((r) => `${r.status} ${r.text}`).join('\n'),
    ).toHaveLength(MAX);
    for (const r of answers.filter((x) => x.status !== 202)) expectErrorShape(r, 429, 'too_many_sessions');
    const { rows } = await h.rt.dbs
      .pool('demo_session')
      .query<{ n: number }>(
        `SELECT count(*)::int AS n FROM demo_sessions WHERE lower(email) ~ '^a(\\+[^@]*)?@x\\.io$' AND status = ANY($1::text[])`,
        [LIVE_STATUSES],
      );
    expect(rows[0]!.n).toBe(MAX);
  });
});
