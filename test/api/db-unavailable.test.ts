import http from 'node:http';
import { Writable } from 'node:stream';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type RunningApi } from '../../src/api/server.ts';
import { databaseName } from '../../src/config/env.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { client, expectErrorShape, freshEmail, PATH, postSession } from './helpers.ts';

/** The error shape, 503 database_unavailable, and a Retry-After in whole seconds. */
function expectUnavailable(res: {
  status: number;
  body: unknown;
  text: string;
  headers: Record<string, string>;
}): void {
  expectErrorShape(res, 503, 'database_unavailable');
  expect(res.headers['retry-after'], res.text).toMatch(/^\d+$/);
  expect(res.text).not.toMatch(/not currently accepting|postinit|CheckMyDatabase|55000|t[0-9a-f]{10}_/);
}

/**
 * `bakery_demo_session` (here: this file's own demo_session database) refusing
 * connections, as in an outage or a failover: PostgreSQL answers every new connection
 * with 55000 "database ... is not currently accepting connections", and the existing
 * ones are terminated (57P01), so the pool must reconnect.
 */
describe('HTTP API: the session database refusing connections', () => {
  let h: Harness;
  let api: RunningApi;
  let admin: pg.Client;
  let dbName: string;
  const logLines: Record<string, unknown>[] = [];
  let sessionId: string;

  const refuse = async () => {
    await admin.query(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS false`);
    await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [dbName],
    );
  };
  const allow = () => admin.query(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS true`);

  beforeAll(async () => {
    h = await createHarness();
    dbName = databaseName(h.cfg, 'demo_session');
    admin = new pg.Client({ connectionString: h.cfg.DATABASE_URL });
    await admin.connect();
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n'))
          if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const log = pino({ level: 'warn' }, sink);
    api = await startApi({ ...h.cfg, PORT: 0, HOST: '127.0.0.1', RATE_LIMIT_PER_MINUTE: 0 }, h.rt, log);
    const res = await postSession(api, { demo_account_type: 'professional', email: freshEmail() });
    expect(res.status, res.text).toBe(202);
    sessionId = (res.body as { session_id: string }).session_id;
  });
  afterEach(async () => {
    // Whatever a test did, the next one (and the harness' DROP) finds the database open.
    await allow();
  });
  afterAll(async () => {
    if (admin) await allow().catch(() => undefined);
    await api?.close();
    await admin?.end();
    await h?.close();
  });

  it('POST, GET, DELETE and GET /events answer 503 with Retry-After, in the error shape', async () => {
    await refuse();
    expectUnavailable(await postSession(api, { demo_account_type: 'professional', email: freshEmail() }));
    expectUnavailable(await client(api).get(`${PATH}/${sessionId}`));
    expectUnavailable(await client(api).delete(`${PATH}/${sessionId}`));
    expectUnavailable(await client(api).get(`${PATH}/${sessionId}/events`).set('Accept', 'text/event-stream'));
    // A client's mistake is still its own: a bad id is 400, not 503.
    expectErrorShape(await client(api).get(`${PATH}/not-a-uuid`), 400, 'invalid_session_id');

    await allow();
    const back = await client(api).get(`${PATH}/${sessionId}`);
    expect(back.status, back.text).toBe(200);
    expect((back.body as { session_id: string }).session_id).toBe(sessionId);
    expect((await postSession(api, { demo_account_type: 'professional', email: freshEmail() })).status).toBe(202);
  });

  it('an event stream answers 503 as well when opened over node:http (no stream is held)', async () => {
    await refuse();
    const { status, headers, body } = await new Promise<{
      status: number;
      headers: http.IncomingHttpHeaders;
      body: string;
    }>((resolve, reject) => {
      http
        .get(`${api.url}${PATH}/${sessionId}/events`, { headers: { Accept: 'text/event-stream' } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        })
        .on('error', reject);
    });
    expect(status, body).toBe(503);
    expect(headers['retry-after']).toMatch(/^\d+$/);
    expect(JSON.parse(body)).toMatchObject({ error: { code: 'database_unavailable' } });
    expect(api.streams.size).toBe(0);
  });

  it('/readyz answers 503 naming the database, without PostgreSQL text; the details go to the log once', async () => {
    await refuse();
    logLines.length = 0;
    const res = await client(api).get('/readyz');
    expectErrorShape(res, 503, 'not_ready');
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    const body = res.body as {
      status: string;
      down: string[];
      checks: { redis: string; databases: Record<string, string> };
    };
    expect(body.status).toBe('unavailable');
    expect(body.down).toEqual([dbName]);
    expect(body.checks).toEqual({ redis: 'ok', databases: { demo_session: 'down' } });
    expect(res.text).not.toMatch(
      /not currently accepting|accepting connections|postinit|55000|terminat|ECONN|127\.0\.0\.1|5432/i,
    );

    const notReady = logLines.filter((l) => l.msg === 'not ready');
    expect(notReady).toHaveLength(1);
    expect(notReady[0]!.level).toBe(40); // warn
    expect(notReady[0]!.down).toEqual([dbName]);
    expect(JSON.stringify(notReady[0]!.databases)).toMatch(/not currently accepting connections/);
    // Answered by the route itself: the error handler does not log the same check again.
    expect(logLines.filter((l) => l.msg === 'request failed' && l.path === '/readyz')).toHaveLength(0);

    await allow();
    const ready = await client(api).get('/readyz');
    expect(ready.status, ready.text).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { redis: 'ok', databases: 'ok' } });
  });
});
