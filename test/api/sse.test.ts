import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../src/api/server.ts';
import { SERVICES } from '../../src/catalog/services.ts';
import { recordSession } from '../support/sessions.ts';
import type { SessionView } from '../../src/sessions/session-view.ts';
import { createHarness, eventually, type Harness } from '../support/harness.ts';
import {
  client,
  expectErrorShape,
  freshEmail,
  openSse,
  PATH,
  postSession,
  startTestApi,
  waitForStatus,
} from './helpers.ts';

/** GET /api/v1/demo-sessions/{id}/events: progress while loading, a final event, heartbeats, cleanup on disconnect. */
describe('HTTP API: server-sent events', () => {
  let h: Harness;
  let api: RunningApi;

  beforeAll(async () => {
    h = await createHarness();
    await h.startWorkers();
    // progressMs 0: every service done is read at once, so even a fast load shows its steps.
    api = await startTestApi(h, { RATE_LIMIT_PER_MINUTE: 0 }, { sse: { heartbeatMs: 100, progressMs: 0 } });
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
  });

  /** A session that stays pending: recorded, but no flow enqueued. */
  async function stuckSession(): Promise<string> {
    return (await recordSession(h)).session_id;
  }

  it('streams progress per service while loading and ends with the ready session', async () => {
    const res = await postSession(api, { demo_account_type: 'enterprise', email: freshEmail() });
    expect(res.status).toBe(202);
    const id = (res.body as { session_id: string }).session_id;
    const sse = await openSse(api, `${PATH}/${id}/events`);
    expect(sse.status).toBe(200);
    expect(sse.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(sse.headers['cache-control']).toMatch(/no-cache/);
    await sse.ended;

    const last = sse.events.at(-1)!;
    expect(last.event).toBe('end');
    const final = JSON.parse(last.data) as SessionView;
    expect(final.status).toBe('ready');
    for (const s of SERVICES) expect(final.services[s].status).toBe('ready');

    const progress = sse.events.slice(0, -1);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.every((e) => e.event === 'progress')).toBe(true);
    const views = progress.map((e) => JSON.parse(e.data) as SessionView);
    expect(['pending', 'loading']).toContain(views[0]!.status);
    // Each event differs from the one before (only changes are sent) ...
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.data).not.toBe(progress[i - 1]!.data);
    // ... and services only move forward.
    const rank = { pending: 0, loading: 1, ready: 2, failed: 3, removed: 4 } as const;
    for (const s of SERVICES) {
      const seq = [...views, final].map((v) => rank[v.services[s].status]);
      expect(seq, s).toEqual([...seq].sort((a, b) => a - b));
    }
    // Some service was seen between pending and the end.
    expect(views.some((v) => SERVICES.some((s) => v.services[s].status !== 'pending'))).toBe(true);
    // Event ids count up.
    expect(sse.events.map((e) => Number(e.id))).toEqual(sse.events.map((_, i) => i + 1));
    await eventually(async () => (api.streams.size === 0 ? true : undefined), 2_000, 'the stream to be released');
  });

  it('a finished session: one end event, at once; a reconnect (Last-Event-ID) gets 204', async () => {
    const res = await postSession(api, { demo_account_type: 'professional', email: freshEmail() });
    const id = (res.body as { session_id: string }).session_id;
    await waitForStatus(api, id, ['ready']);
    const sse = await openSse(api, `${PATH}/${id}/events`);
    await sse.ended;
    expect(sse.events.map((e) => e.event)).toEqual(['end']);
    const again = await openSse(api, `${PATH}/${id}/events`, { 'Last-Event-ID': '1' });
    expect(again.status).toBe(204);
  });

  it('follows a destroy to its end', async () => {
    const res = await postSession(api, { demo_account_type: 'professional', email: freshEmail() });
    const id = (res.body as { session_id: string }).session_id;
    await waitForStatus(api, id, ['ready']);
    expect((await client(api).delete(`${PATH}/${id}`)).status).toBe(202);
    const sse = await openSse(api, `${PATH}/${id}/events`);
    await sse.ended;
    const final = JSON.parse(sse.events.at(-1)!.data) as SessionView;
    expect(sse.events.at(-1)!.event).toBe('end');
    expect(final.status).toBe('destroyed');
  });

  it('sends heartbeat comments while nothing changes', async () => {
    const id = await stuckSession();
    const sse = await openSse(api, `${PATH}/${id}/events`);
    await eventually(
      async () => (sse.comments.filter((c) => c === 'ping').length >= 2 ? true : undefined),
      3_000,
      'two heartbeats',
    );
    expect(sse.events.map((e) => e.event)).toEqual(['progress']);
    sse.close();
  });

  it('stops polling when the client goes away', async () => {
    const id = await stuckSession();
    const streams = await Promise.all([1, 2, 3].map(() => openSse(api, `${PATH}/${id}/events`)));
    await eventually(async () => (api.streams.size >= 3 ? true : undefined), 2_000, 'three open streams');
    for (const s of streams) s.close();
    await eventually(async () => (api.streams.size === 0 ? true : undefined), 2_000, 'every stream to be released');
  });

  it('unknown or malformed session: the JSON error, not a stream', async () => {
    expectErrorShape(await client(api).get(`${PATH}/${randomUUID()}/events`), 404, 'session_not_found');
    expectErrorShape(await client(api).get(`${PATH}/nope/events`), 400, 'invalid_session_id');
  });

  it('pushes each change as BullMQ reports a job of the session done, without waiting for the poll', async () => {
    // A poll interval far longer than the test: only the QueueEvents nudges can move the stream.
    const pushOnly = await startTestApi(
      h,
      { RATE_LIMIT_PER_MINUTE: 0 },
      { sse: { heartbeatMs: 100, pollMs: 600_000, progressMs: 0 } },
    );
    try {
      const res = await postSession(pushOnly, { demo_account_type: 'professional', email: freshEmail() });
      const id = (res.body as { session_id: string }).session_id;
      const sse = await openSse(pushOnly, `${PATH}/${id}/events`);
      await sse.ended;
      expect(sse.events.at(-1)!.event).toBe('end');
      expect((JSON.parse(sse.events.at(-1)!.data) as SessionView).status).toBe('ready');
      // Services finishing one after another were each pushed: more than the first view.
      expect(sse.events.filter((e) => e.event === 'progress').length).toBeGreaterThanOrEqual(2);

      expect((await client(pushOnly).delete(`${PATH}/${id}`)).status).toBe(202);
      const gone = await openSse(pushOnly, `${PATH}/${id}/events`);
      await gone.ended;
      expect(JSON.parse(gone.events.at(-1)!.data).status).toBe('destroyed');
    } finally {
      await pushOnly.close();
    }
  });

  it('shows a service done within progressMs without a poll, and a session still waiting for one', async () => {
    // Nothing serves orchestrator at first: the other ten finish, the session waits.
    const h2 = await createHarness();
    try {
      await h2.startWorkers(SERVICES.filter((s) => s !== 'orchestrator'));
      const slow = await startTestApi(
        h2,
        { RATE_LIMIT_PER_MINUTE: 0 },
        { sse: { heartbeatMs: 100, pollMs: 600_000, progressMs: 200 } },
      );
      try {
        const res = await postSession(slow, { demo_account_type: 'professional', email: freshEmail() });
        const id = (res.body as { session_id: string }).session_id;
        const sse = await openSse(slow, `${PATH}/${id}/events`);
        const lastView = () => JSON.parse(sse.events.at(-1)?.data ?? '{}') as Partial<SessionView>;
        const others = SERVICES.filter((s) => s !== 'orchestrator');
        await eventually(
          async () => (others.every((s) => lastView().services?.[s].status === 'ready') ? true : undefined),
          10_000,
          'ten services shown ready',
        );
        expect(lastView().status).toBe('loading');
        expect(lastView().services?.orchestrator.status).toBe('pending');
        await h2.startWorkers(['orchestrator']);
        await sse.ended;
        expect(sse.events.at(-1)!.event).toBe('end');
        expect(lastView().status).toBe('ready');
      } finally {
        await slow.close();
      }
    } finally {
      await h2.close();
    }
  });

  it('close() of the server ends open streams', async () => {
    const other = await startTestApi(h, {}, { sse: { heartbeatMs: 100 } });
    const sse = await openSse(other, `${PATH}/${await stuckSession()}/events`);
    await eventually(async () => (sse.events.length > 0 ? true : undefined), 2_000, 'the first event');
    const t0 = Date.now();
    await other.close();
    await sse.ended;
    expect(Date.now() - t0).toBeLessThan(3_000);
  });
});
