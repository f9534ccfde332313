import { Job, Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WAVES } from '../../src/catalog/services.ts';
import type { RunningApi } from '../../src/api/server.ts';
import { QUEUE_NAMES } from '../../src/flows/queues.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { client, expectErrorShape, freshEmail, postSession, startTestApi } from './helpers.ts';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Bull Board at /admin/queues: every queue, behind basic auth; locked without configured credentials. */
describe('HTTP API: Bull Board', () => {
  let h: Harness;
  let open: RunningApi;
  let locked: RunningApi;

  beforeAll(async () => {
    h = await createHarness();
    // The 401 cases below send 18 wrong logins from one client: more than the default limit (board-security.test.ts tests it).
    open = await startTestApi(h, {
      ADMIN_USER: 'admin',
      ADMIN_PASSWORD: 's3cret:with colon',
      ADMIN_LOGIN_MAX_FAILURES: 1000,
    });
    locked = await startTestApi(h, { ADMIN_USER: undefined, ADMIN_PASSWORD: undefined });
  });
  afterAll(async () => {
    await Promise.all([open?.close(), locked?.close()]);
    await h?.close();
  });

  it.each([
    ['no credentials', undefined],
    ['a wrong password', basic('admin', 'wrong')],
    ['a wrong user', basic('root', 's3cret:with colon')],
    ['the password as user', basic('s3cret:with colon', 'admin')],
    ['an empty pair', basic('', '')],
    ['not base64', 'Basic !!!'],
    ['another scheme', 'Bearer s3cret'],
  ])('401 with %s, in the error shape and with WWW-Authenticate', async (_what, auth) => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues', '/admin/queues/static/nothing.js']) {
      const req = client(open).get(path);
      if (auth) req.set('Authorization', auth);
      const res = await req;
      expectErrorShape(res, 401, 'unauthorized');
      expect(res.headers['www-authenticate']).toMatch(/^Basic realm=/);
    }
  });

  it('200 with the credentials: the page, and every queue in its API', async () => {
    const page = await client(open).get('/admin/queues').set('Authorization', basic('admin', 's3cret:with colon'));
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('<div id="root">');
    expect(page.headers['www-authenticate']).toBeUndefined();

    const api = await client(open)
      .get('/admin/queues/api/queues')
      .set('Authorization', basic('admin', 's3cret:with colon'));
    expect(api.status).toBe(200);
    const names = (api.body as { queues: { name: string }[] }).queues.map((q) => q.name);
    expect(names.sort()).toEqual([...QUEUE_NAMES].sort());
  });

  it('a created session shows as a flow: the session job with its first service jobs as children', async () => {
    const res = await postSession(open, { demo_account_type: 'professional', email: freshEmail() });
    expect(res.status).toBe(202);
    const id = (res.body as { session_id: string }).session_id;
    const job = await client(open)
      .get(`/admin/queues/api/queues/demo-session/${id}`)
      .set('Authorization', basic('admin', 's3cret:with colon'));
    expect(job.status, job.text).toBe(200);
    expect(job.body.job.id).toBe(id);
    expect(job.body.job.name).toBe('session');
    // Each service of the first wave is on the board, as a child of that session job.
    for (const service of WAVES[0]!) {
      const child = await client(open)
        .get(`/admin/queues/api/queues/${service}/${id}-${service}`)
        .set('Authorization', basic('admin', 's3cret:with colon'));
      expect(child.status, `${service}: ${child.text}`).toBe(200);
      const queue = new Queue(service, { connection: h.rt.redis, prefix: h.cfg.QUEUE_PREFIX });
      try {
        expect((await Job.fromId(queue, `${id}-${service}`))?.parentKey).toBe(
          `${h.cfg.QUEUE_PREFIX}:demo-session:${id}`,
        );
      } finally {
        await queue.close();
      }
    }
  });

  it('without ADMIN_USER/ADMIN_PASSWORD the board answers 401 to everyone', async () => {
    for (const auth of [undefined, basic('admin', 's3cret:with colon'), basic('', '')]) {
      const req = client(locked).get('/admin/queues');
      if (auth) req.set('Authorization', auth);
      const res = await req;
      expectErrorShape(res, 401, 'unauthorized');
      expect(res.body.error.message).toMatch(/ADMIN_USER/);
    }
  });
});
