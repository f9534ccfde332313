import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateProfile } from '../../src/seed-tools/generate/index.ts';
import { countsOf, sessionRows } from '../support/data-rules.ts';
import { createHarness, eventually, type Harness } from '../support/harness.ts';
import { startWorkerProcess, type ServiceProcess } from '../support/processes.ts';
import { readManifest, waitForEnd } from '../support/sessions.ts';

/** A worker process killed with SIGKILL in the middle of a COPY: the session still ends ready with exact counts. */
describe('a worker killed during COPY', () => {
  let h: Harness;
  let dataDir: string;
  const procs: ServiceProcess[] = [];

  beforeAll(async () => {
    // Locks expire fast here, so the killed worker's job is retried within seconds.
    h = await createHarness({ LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000' });
    dataDir = await mkdtemp(path.join(tmpdir(), 'demo-seed-crash-'));
    // Enough sales rows that their COPY takes a while: a window to kill the worker in.
    await generateProfile({ profile: 'professional', seed: 11, scale: 1500, out: path.join(dataDir, 'professional') });
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await h?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('is retried by another worker: ready, exact manifest counts, no duplicate', async () => {
    const manifest = await readManifest('professional', dataDir);
    const first = await startWorkerProcess(h.env);
    procs.push(first);
    const created = await h.rt.producer.create({ profile: 'professional', dataDir });

    // Wait until the sales COPY is streaming into PostgreSQL, then kill the worker.
    const copying = async () => {
      const { rows } = await h.rt.dbs
        .pool('sales')
        .query(
          `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'COPY "sales_daily"%' AND state = 'active'`,
        );
      return rows.length > 0 ? true : undefined;
    };
    await eventually(copying, 30_000, 'the sales COPY to start');
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const killedAt = Date.now();

    // The server notices the dead connection and rolls its transaction back.
    await eventually(async () => ((await copying()) ? undefined : true), 10_000, 'the killed COPY to end');
    const second = await startWorkerProcess(h.env);
    procs.push(second);

    const v = await waitForEnd(h, created.session_id, 60_000);
    expect(v.status, v.error ?? '').toBe('ready');
    console.log(`recovered ${Date.now() - killedAt} ms after SIGKILL`);
    expect(countsOf(await sessionRows(h.rt.dbs, v.tenant_ids))).toEqual(manifest.counts);
    expect(v.services.sales.rows).toBe(Object.values(manifest.counts.sales ?? {}).reduce((a, b) => a + b, 0));
  });
});
