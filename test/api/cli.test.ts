import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSession } from '../support/sessions.ts';
import type { SessionView } from '../../src/sessions/session-view.ts';
import { createHarness, eventually, type Harness } from '../support/harness.ts';
import { freshEmail, PATH } from './helpers.ts';

interface Child {
  readonly proc: ChildProcess;
  readonly url: string;
  readonly logs: Record<string, unknown>[];
  readonly exited: Promise<number | null>;
}

/** Runs `demo-seed <command>` on a free port of 127.0.0.1 and waits for its "listening" log line. */
async function run(h: Harness, command: string, env: Record<string, string> = {}): Promise<Child> {
  const proc = spawn(process.execPath, ['bin/demo-seed.js', command], {
    env: { ...h.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === 'HTTP API listening') resolve(entry.url as string);
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => reject(new Error(`demo-seed ${command} exited ${code} before listening: ${stderr}`)));
    setTimeout(() => reject(new Error(`demo-seed ${command} did not listen within 60 s: ${stderr}`)), 60_000).unref();
  });
  return { proc, url, logs, exited };
}

/** The CLI's `api` and `start` serve the API and stop cleanly on SIGTERM. */
describe('demo-seed api / start', () => {
  let h: Harness;
  const children: Child[] = [];

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
    await h?.close();
  });

  it('`api` serves the API and a locked board, says how to open it, and exits 0 on SIGTERM, ending event streams', async () => {
    const c = await run(h, 'api', { ADMIN_USER: '', ADMIN_PASSWORD: '' });
    children.push(c);
    expect((await request(c.url).get('/healthz')).status).toBe(200);
    // Ready once its Redis connection is up (a moment after it starts listening).
    await eventually(
      async () => ((await request(c.url).get('/readyz')).status === 200 ? true : undefined),
      10_000,
      '/readyz to answer 200',
    );
    expect((await request(c.url).get('/admin/queues')).status).toBe(401);
    expect(c.logs.some((l) => l.level === 'warn' && /ADMIN_USER and ADMIN_PASSWORD/.test(String(l.msg)))).toBe(true);

    // A session that stays pending (no worker runs in `api`), watched over SSE.
    const id = (await recordSession(h)).session_id;
    let streamEnded = false;
    let streamStatus = 0;
    const stream = request(c.url)
      .get(`${PATH}/${id}/events`)
      .buffer(false)
      .parse((res, done) => {
        streamStatus = res.statusCode ?? 0;
        res.on('data', () => undefined);
        res.on('end', () => {
          streamEnded = true;
          done(null, null);
        });
      })
      .then(
        () => undefined,
        () => undefined,
      );
    await new Promise((r) => setTimeout(r, 300));
    // Open and streaming until the process is told to stop.
    expect(streamStatus).toBe(200);
    expect(streamEnded).toBe(false);

    const t0 = Date.now();
    c.proc.kill('SIGTERM');
    expect(await c.exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    await stream;
    expect(streamEnded).toBe(true);
    expect(c.logs.some((l) => l.msg === 'HTTP API stopped')).toBe(true);
  });

  it('`start` runs migrations, workers and the API in one process; SIGTERM stops it with exit 0', async () => {
    const c = await run(h, 'start', { RATE_LIMIT_PER_MINUTE: '0' });
    children.push(c);
    const res = await request(c.url).post(PATH).send({ demo_account_type: 'professional', email: freshEmail() });
    expect(res.status, res.text).toBe(202);
    const id = (res.body as { session_id: string }).session_id;
    const view = await eventually(
      async () => {
        const v = (await request(c.url).get(`${PATH}/${id}`)).body as SessionView;
        return v.status === 'ready' ? v : undefined;
      },
      60_000,
      'the session to load in the `start` process',
    );
    expect(view.duration_ms).toBeGreaterThan(0);
    c.proc.kill('SIGTERM');
    expect(await c.exited).toBe(0);
    const messages = c.logs.map((l) => l.msg);
    expect(messages.indexOf('HTTP API stopped')).toBeGreaterThan(-1);
    expect(messages.indexOf('HTTP API stopped')).toBeLessThan(messages.lastIndexOf('stopped'));
  });
});
