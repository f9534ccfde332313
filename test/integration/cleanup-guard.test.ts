import { randomUUID } from 'node:crypto';
import { FlowProducer, Queue, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES, WAVES, type ServiceName } from '../../src/catalog/services.ts';
import { TABLES, type EntityName } from '../../src/catalog/tables.ts';
import { SESSION_QUEUE } from '../../src/flows/jobs.ts';
import type { SessionView } from '../../src/sessions/session-view.ts';
import { removeFromService } from '../../src/sessions/remove-session-data.ts';
import { leftoverCount, sessionRows } from '../support/data-rules.ts';
import { createHarness, eventually, type Harness } from '../support/harness.ts';
import { createAndWait, waitForEnd } from '../support/sessions.ts';

/**
 * Cleanup jobs added by hand (straight through BullMQ, as the board or a script
 * would) that name a customer's tenants delete nothing of them: the tenants are the
 * session record's, and each database deletes only those its load marker records.
 */
describe('cleanups are bound to the demo tenants of a session', () => {
  let h: Harness;
  let real: SessionView;
  let before: string;
  let flows: FlowProducer;
  const queues = new Map<string, Queue>();
  /** A customer with a `tenants` row (is_demo = false), and one without. */
  const customer = randomUUID();
  const orphan = randomUUID();
  const customers = [customer, orphan];

  const queue = (name: string): Queue => {
    let q = queues.get(name);
    if (!q) queues.set(name, (q = new Queue(name, { connection: h.rt.redis, prefix: h.cfg.QUEUE_PREFIX })));
    return q;
  };
  /** Every column of every row of the customers, in a stable order. */
  const customerRows = async (): Promise<string> => {
    const rows = await sessionRows(h.rt.dbs, customers);
    return JSON.stringify(
      [...rows]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([t, list]) => [t, [...list].sort((x, y) => String(x.id).localeCompare(String(y.id)))]),
    );
  };
  const failedFor = async (job: Job): Promise<Job> =>
    eventually(
      async () => {
        // The state first: a job read before it failed would show its attempt unfinished.
        if ((await queue(job.queueName).getJobState(job.id as string)) !== 'failed') return undefined;
        return queue(job.queueName).getJob(job.id as string);
      },
      20_000,
      `job ${job.name} ${job.id} to fail`,
    );

  beforeAll(async () => {
    h = await createHarness();
    await h.startWorkers();
    flows = new FlowProducer({ connection: h.rt.redis, prefix: h.cfg.QUEUE_PREFIX });
    // enterprise: the profile with rows in every table (delivery routes among them).
    real = await createAndWait(h, 'enterprise');
    expect(real.status, real.error ?? '').toBe('ready');
    await insertCustomerRows(h, real, customer, orphan);
    before = await customerRows();
  }, 120_000);
  afterAll(async () => {
    await Promise.all([...queues.values()].map((q) => q.close()));
    await flows?.close();
    await h?.close();
  });

  it('has the customers rows in every table of the 11 databases to begin with', async () => {
    const rows = await sessionRows(h.rt.dbs, customers);
    for (const s of SERVICES) {
      for (const t of TABLES[s])
        expect(rows.get(`${s}.${t.name}`)?.length, `${s}.${t.name}`).toBe(t.name === 'tenants' ? 1 : 2);
    }
    const tenantRow = rows.get('tenant.tenants')?.[0];
    expect(tenantRow).toMatchObject({ id: customer, is_demo: false });
  });

  it('refuses a cleanup of an unknown session that names the customers, and its per-service jobs, deleting nothing', async () => {
    const sessionId = randomUUID();
    const opts = { attempts: 5, backoff: { type: 'fixed', delay: 10 } };
    const parent = await queue(SESSION_QUEUE).add(
      'cleanup',
      { sessionId, tenantIds: customers, end: 'destroyed' },
      opts,
    );
    const services = await Promise.all(
      SERVICES.map((service) =>
        queue(service).add(
          'cleanup-service',
          { sessionId, tenantIds: customers, end: 'destroyed', service, wave: 1 },
          opts,
        ),
      ),
    );
    // A whole cleanup flow, as FlowProducer adds one: the children run first.
    const flow = await flows.add({
      name: 'cleanup',
      queueName: SESSION_QUEUE,
      data: { sessionId, tenantIds: customers, end: 'expired' },
      opts,
      children: WAVES.at(-1)!.map((service) => ({
        name: 'cleanup-service',
        queueName: service,
        data: { sessionId, tenantIds: customers, end: 'expired', service, wave: 1 },
        opts,
      })),
    });
    for (const job of [parent, ...services, ...(flow.children ?? []).map((c) => c.job)]) {
      const failed = await failedFor(job);
      expect(failed.attemptsMade, `${job.name} on ${job.queueName} ran once`).toBe(1);
      expect(failed.failedReason).toBe(
        `${job.name} of session ${sessionId} refused: the session has no record in bakery_demo_session; nothing deleted`,
      );
    }
    expect(await customerRows()).toBe(before);
  });

  it('refuses a cleanup of the real session that names the customers besides its own tenants', async () => {
    const opts = { attempts: 5 };
    const jobs = [
      await queue(SESSION_QUEUE).add(
        'cleanup',
        { sessionId: real.session_id, tenantIds: [...real.tenant_ids, ...customers], end: 'destroyed' },
        opts,
      ),
      ...(await Promise.all(
        SERVICES.map((service) =>
          queue(service).add(
            'cleanup-service',
            { sessionId: real.session_id, tenantIds: [customer], end: 'destroyed', service, wave: 1 },
            opts,
          ),
        ),
      )),
    ];
    for (const job of jobs) {
      const failed = await failedFor(job);
      expect(failed.attemptsMade).toBe(1);
      expect(failed.failedReason).toMatch(
        new RegExp(
          `^${job.name} of session ${real.session_id} refused: its data names \\d tenant\\(s\\) that are not the session's; nothing deleted$`,
        ),
      );
    }
    expect(await customerRows()).toBe(before);
    // Nothing of the session went either: it is still ready, its rows all there.
    expect((await h.rt.producer.view(real.session_id))?.status).toBe('ready');
    expect(await leftoverCount(h.rt.dbs, real.tenant_ids)).toBeGreaterThan(0);
  });

  it('refuses a per-service cleanup of a live session, which only its cleanup flow may run', async () => {
    const job = await queue('sales').add(
      'cleanup-service',
      { sessionId: real.session_id, end: 'destroyed', service: 'sales', wave: 1 },
      { attempts: 3 },
    );
    const failed = await failedFor(job);
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toBe(
      `cleanup-service of session ${real.session_id} refused: the session is ready, not being destroyed; nothing deleted`,
    );
    expect((await h.rt.producer.view(real.session_id))?.status).toBe('ready');
  });

  it('fails jobs with bad data at once, naming the job, queue and field', async () => {
    const cases: [string, string, unknown, string][] = [
      [SESSION_QUEUE, 'cleanup', { sessionId: 42, end: 'destroyed' }, 'sessionId: must be a uuid'],
      [
        SESSION_QUEUE,
        'cleanup',
        { sessionId: real.session_id, end: 'destroyed', where: 'true' },
        'where: is not a field of this job',
      ],
      [SESSION_QUEUE, 'expire', { sessionId: "'; DROP TABLE demo_sessions; --" }, 'sessionId: must be a uuid'],
      [
        'inventory',
        'cleanup-service',
        { sessionId: real.session_id, end: 'destroyed', service: 'sales', wave: 1 },
        "service: must be the queue's service (inventory)",
      ],
      [
        'orders',
        'load-service',
        { sessionId: real.session_id, service: 'orders', phase: 3, wave: 2 },
        'profile: is required',
      ],
      ['tenant', 'load-service', 'load everything', 'data: must be an object'],
    ];
    for (const [queueName, name, data, problem] of cases) {
      const job = await queue(queueName).add(name, data, { attempts: 4 });
      const failed = await failedFor(job);
      expect(failed.attemptsMade, `${name} ${problem}`).toBe(1);
      expect(failed.failedReason).toMatch(`job "${name}" ${job.id} on queue ${queueName} refused: bad data: `);
      expect(failed.failedReason).toContain(problem);
    }
    expect((await h.rt.producer.view(real.session_id))?.status).toBe('ready');
    expect(await customerRows()).toBe(before);
  });

  it('deletes no customer row inside the database either, given their tenant ids with the real session', async () => {
    // Past every check in the workers: the delete statements themselves match only
    // the tenants this database's marker of the session records.
    for (const service of SERVICES) {
      expect(
        await removeFromService(h.rt.worker, service, { session_id: real.session_id, tenant_ids: customers }),
        service,
      ).toBe(0);
      expect(
        await removeFromService(h.rt.worker, service, {
          session_id: randomUUID(),
          tenant_ids: [...customers, ...real.tenant_ids],
        }),
        service,
      ).toBe(0);
    }
    expect(await customerRows()).toBe(before);
    expect(await leftoverCount(h.rt.dbs, real.tenant_ids)).toBeGreaterThan(0);
  });

  it('still destroys the real session (whose markers are tombstones now, keeping its tenants), and only it', async () => {
    await h.rt.producer.destroy(real.session_id);
    const v = await waitForEnd(h, real.session_id);
    expect(v.status).toBe('destroyed');
    expect(await leftoverCount(h.rt.dbs, real.tenant_ids)).toBe(0);
    expect(await customerRows()).toBe(before);
    for (const service of SERVICES) {
      const { rows } = await h.rt.dbs
        .pool(service)
        .query('SELECT state, tenant_ids FROM demo_seed.session_loads WHERE session_id = $1', [real.session_id]);
      expect(rows, service).toEqual([{ state: 'destroyed', tenant_ids: real.tenant_ids }]);
    }
  });
});

/**
 * One row per customer in every seeded table of the 11 databases (the `tenants` row for
 * `customer` only, with is_demo = false), copied from a row of the demo session with
 * every id, tenant and reference the customer's own.
 */
async function insertCustomerRows(h: Harness, demo: SessionView, customer: string, orphan: string): Promise<void> {
  for (const tenant of [customer, orphan]) {
    const own = new Map<EntityName, string>();
    for (const service of WAVES.flat() as ServiceName[]) {
      const client = await h.rt.dbs.pool(service).connect();
      try {
        await client.query('BEGIN');
        // The orphan has no tenants row its foreign keys could point at.
        await client.query('SET LOCAL session_replication_role = replica');
        for (const table of TABLES[service]) {
          if (table.name === 'tenants' && tenant === orphan) continue;
          const { rows } = await client.query(
            `SELECT * FROM "${table.name}" WHERE tenant_id = ANY($1::uuid[]) LIMIT 1`,
            [demo.tenant_ids],
          );
          const row = rows[0] as Record<string, unknown> | undefined;
          if (!row) throw new Error(`the demo session has no row in ${service}.${table.name}`);
          const id = table.name === 'tenants' ? tenant : randomUUID();
          own.set(`${service}.${table.name}`, id);
          const values = Object.entries(table.columns).map(([name, col]) => {
            if (name === 'id') return id;
            if (col.kind === 'tenant') return col.nullable ? null : tenant;
            if (col.kind === 'ref') return row[name] === null ? null : (own.get(col.entity) ?? randomUUID());
            if (col.kind === 'json') return JSON.stringify(row[name]);
            if (name === 'is_demo') return false;
            // Emails, slugs and codes are unique across tenants: the customer has its own.
            if ('identity' in col && col.identity) return `customer-${tenant.slice(0, 8)}-${String(row[name])}`;
            return row[name];
          });
          const names = Object.keys(table.columns);
          await client.query(
            `INSERT INTO "${table.name}" (${names.map((n) => `"${n}"`).join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')})`,
            values,
          );
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    }
  }
}
