import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { once } from 'node:events';
import pg from 'pg';
import { SERVICES } from '../src/catalog/services.ts';
import { databaseUrl } from '../src/config/env.ts';
import { quiesce } from './quiesce.ts';
import { generateProfile } from '../src/seed-tools/generate/index.ts';
import { idMapperFor } from '../src/seed/ids.ts';
import type { ApiClient } from './client.ts';
import { maxBy, ratePerSecond } from './stats.ts';
import type { World } from './world.ts';

/**
 * Bulk load: a generated professional profile with `scale` × 270 sales rows, loaded
 * by a session whose `sales` job runs alone in a dedicated worker process (its peak
 * RSS is read from /proc), beside two ways of writing the very same rows into the
 * same table: `psql \copy` (the machine's physical limit) and node-postgres
 * multi-row INSERTs of 100 rows (the origin's method). Before each load the previous
 * rows are deleted and the table vacuumed, so every load starts from the same empty
 * table. The three loads run in `rounds` rounds, and each method's figure is its
 * fastest round: the machine's speed drifts within a minute, and one slow phase must
 * not decide a ratio.
 */
const COLUMNS = [
  'id',
  'tenant_id',
  'location_id',
  'product_id',
  'sale_date',
  'quantity_sold',
  'revenue',
  'waste_quantity',
  'channel',
];
const ROWS_PER_SCALE = 90 * 3; // days × products × 1 location
const INSERT_BATCH = 100;

/** Rows per second of each method in one round. */
export interface BulkRound {
  readonly service: number;
  readonly psql_copy: number;
  readonly insert_100: number;
}

export interface BulkResult {
  readonly scale: number;
  readonly generate_ms: number;
  /** The fastest round of the service load. */
  readonly service: {
    readonly session_id: string;
    readonly rows: number;
    /** tables.sales_daily.duration_ms: transform + COPY of the table. */
    readonly table_ms: number;
    readonly rows_per_second: number;
    /** The whole sales job (ID maps, transform, COPY, commit, publish). */
    readonly job_ms: number;
    readonly job_rows_per_second: number;
    readonly session_ms: number;
  };
  /** The fastest rounds of the two references. */
  readonly psql_copy: { readonly rows: number; readonly ms: number; readonly rows_per_second: number };
  readonly insert_100: {
    readonly rows: number;
    readonly ms: number;
    readonly rows_per_second: number;
    readonly note: string;
  };
  readonly ratio_vs_copy: number;
  readonly ratio_vs_insert: number;
  /** Every round, in order. */
  readonly rounds: BulkRound[];
  /** The dedicated sales worker's, over every round. */
  readonly worker_rss: {
    readonly vm_hwm_mb: number;
    readonly sampled_peak_mb: number;
    readonly before_mb: number;
    readonly samples: number;
  };
  /** DELETE → destroyed of the first round's session (a million-row delete). */
  readonly destroy_ms: number;
}

export const rowsForScale = (scale: number) => ROWS_PER_SCALE * scale;

type ServiceLoad = BulkResult['service'];
type Timed = { rows: number; ms: number; rows_per_second: number };

export async function measureBulk(
  world: World,
  client: ApiClient,
  opts: { scale: number; rounds: number },
  progress: (msg: string) => void,
): Promise<BulkResult> {
  // A seed-data root holds one folder per profile.
  const root = path.join(world.tmp, `bulk-x${opts.scale}`);
  const g0 = performance.now();
  await generateProfile({ profile: 'professional', seed: 1, scale: opts.scale, out: path.join(root, 'professional') });
  const generateMs = Math.round(performance.now() - g0);
  progress(
    `bulk: profile with ${rowsForScale(opts.scale).toLocaleString('en')} sales rows generated in ${generateMs} ms; starting the dedicated sales worker`,
  );

  const others = SERVICES.filter((s) => s !== 'sales').join(',');
  const workers = [await world.startWorker('bulk-others', ['--services', others])];
  const salesWorker = await world.startWorker('bulk-sales', ['--services', 'sales', '--no-session-queue']);
  workers.push(salesWorker);
  const before = await procStatus(salesWorker.pid);
  const rss: number[] = [];
  const sampler = setInterval(() => {
    void procStatus(salesWorker.pid).then(
      (s) => rss.push(s.VmRSS),
      () => undefined,
    );
  }, 50);
  const url = databaseUrl(world.cfg, 'sales');
  const fresh = path.join(world.tmp, 'sales_daily.fresh.tsv');
  /** The tenant of every row of `fresh`, the file psql loads. */
  const copyTenant = randomUUID();
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const services: ServiceLoad[] = [];
  const copies: Timed[] = [];
  const inserts: Timed[] = [];
  let destroyMs = NaN;
  let peak: { VmRSS: number; VmHWM: number } | undefined;
  try {
    for (let round = 1; round <= opts.rounds; round++) {
      const of = opts.rounds > 1 ? ` (round ${round} of ${opts.rounds})` : '';
      // Every load starts alike: sales_daily vacuumed (the throughput levels, or the
      // previous load, left dead rows in it), a checkpoint done, no autovacuum running.
      await db.query('VACUUM sales_daily');
      await quiesce(db);
      const created = await world.rt.producer.create({
        profile: 'professional',
        dataDir: root,
        email: 'bench-bulk@example.com',
      });
      await client.follow(created.session_id, 'ready', 15 * 60_000);
      peak = await procStatus(salesWorker.pid);
      const view = await world.rt.producer.view(created.session_id);
      const sales = view?.services.sales;
      const table = sales?.tables?.sales_daily;
      if (!view || !sales || !table || sales.duration_ms === null)
        throw new Error(`bulk session ${created.session_id} has no sales_daily result`);
      services.push({
        session_id: created.session_id,
        rows: table.rows,
        table_ms: table.duration_ms,
        rows_per_second: ratePerSecond(table.rows, table.duration_ms),
        job_ms: sales.duration_ms,
        job_rows_per_second: ratePerSecond(sales.rows, sales.duration_ms),
        session_ms: view.duration_ms ?? NaN,
      });
      progress(`bulk${of}: service loaded ${table.rows.toLocaleString('en')} rows in ${table.duration_ms} ms`);

      if (round === 1) {
        progress('bulk: exporting them for psql \\copy');
        const exported = path.join(world.tmp, 'sales_daily.exported.tsv');
        await psql(
          url,
          `\\copy (SELECT ${COLUMNS.join(', ')} FROM sales_daily WHERE tenant_id = '${view.tenant_id}') TO '${exported}'`,
        );
        const rewritten = await rewriteIds(exported, fresh, copyTenant);
        if (rewritten !== table.rows) throw new Error(`exported ${rewritten} rows, the service loaded ${table.rows}`);
      }

      // The session goes first (its destroy timed: a million-row DELETE), then each reference load.
      const d0 = performance.now();
      await client.delete(created.session_id);
      await client.follow(created.session_id, 'destroyed', 15 * 60_000);
      if (round === 1) destroyMs = Math.round(performance.now() - d0);
      progress(`bulk${of}: psql \\copy of ${table.rows.toLocaleString('en')} rows`);
      copies.push(
        await referenceLoad(db, copyTenant, async () => {
          await psql(url, `\\copy sales_daily (${COLUMNS.join(', ')}) FROM '${fresh}'`);
          return table.rows;
        }),
      );
      progress(
        `bulk${of}: node-postgres INSERT, ${INSERT_BATCH} rows per statement, of ${table.rows.toLocaleString('en')} rows`,
      );
      const insertTenant = randomUUID();
      inserts.push(await referenceLoad(db, insertTenant, () => insertBatches(db, fresh, insertTenant)));
    }
  } finally {
    clearInterval(sampler);
    await db.end().catch(() => undefined);
    await Promise.all(workers.map((w) => w.stop()));
  }

  const service = maxBy(services, (r) => r.rows_per_second, 'bulk round');
  const copy = maxBy(copies, (r) => r.rows_per_second, 'bulk round');
  const insert = maxBy(inserts, (r) => r.rows_per_second, 'bulk round');
  const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;
  return {
    scale: opts.scale,
    generate_ms: generateMs,
    service,
    psql_copy: { rows: copy.rows, ms: Math.round(copy.ms), rows_per_second: copy.rows_per_second },
    insert_100: {
      rows: insert.rows,
      ms: Math.round(insert.ms),
      rows_per_second: insert.rows_per_second,
      note: `${INSERT_BATCH} rows per statement, one prepared statement, all in one transaction`,
    },
    ratio_vs_copy: service.rows_per_second / copy.rows_per_second,
    ratio_vs_insert: service.rows_per_second / insert.rows_per_second,
    rounds: services.map((s, i) => ({
      service: s.rows_per_second,
      psql_copy: copies[i]?.rows_per_second ?? NaN,
      insert_100: inserts[i]?.rows_per_second ?? NaN,
    })),
    worker_rss: {
      vm_hwm_mb: mb(peak?.VmHWM ?? NaN),
      sampled_peak_mb: mb(Math.max(before.VmRSS, ...rss)),
      before_mb: mb(before.VmRSS),
      samples: rss.length,
    },
    destroy_ms: destroyMs,
  };
}

/**
 * One timed reference load into the emptied, vacuumed table, of rows that all have
 * `tenant`; they are counted (the load resolves with how many it wrote), then deleted.
 */
async function referenceLoad(db: pg.Client, tenant: string, load: () => Promise<number>): Promise<Timed> {
  await db.query('VACUUM sales_daily');
  await quiesce(db);
  const t0 = performance.now();
  const rows = await load();
  const ms = performance.now() - t0;
  await expectRows(db, tenant, rows);
  await db.query('DELETE FROM sales_daily WHERE tenant_id = $1', [tenant]);
  return { rows, ms, rows_per_second: ratePerSecond(rows, ms) };
}

/** VmRSS and VmHWM of a process, in kB. */
async function procStatus(pid: number): Promise<{ VmRSS: number; VmHWM: number }> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { VmRSS: kb('VmRSS'), VmHWM: kb('VmHWM') };
}

function psql(url: string, command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', command], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.once('error', reject);
    p.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`psql -c "${command.slice(0, 80)}…" exited ${code}: ${err.trim()}`)),
    );
  });
}

/**
 * Copies a COPY text file, giving every row a fresh id and `tenant` (the first two
 * columns). The fresh ids are another session's (idMapperFor), so they lie together in
 * the primary key's index as the service's own rows do: random ids would make the
 * baselines pay for index pages the service does not touch.
 */
async function rewriteIds(from: string, to: string, tenant: string): Promise<number> {
  const mapId = idMapperFor(randomUUID());
  const out = createWriteStream(to);
  let n = 0;
  for await (const line of readline.createInterface({ input: createReadStream(from), crlfDelay: Infinity })) {
    if (line === '') continue;
    const rest = line.slice(line.indexOf('\t', line.indexOf('\t') + 1));
    if (!out.write(`${mapId(line.slice(0, 36))}\t${tenant}${rest}\n`)) await once(out, 'drain');
    n++;
  }
  out.end();
  await once(out, 'finish');
  return n;
}

/** INSERT … VALUES of `batch` rows per statement, fresh ids and `tenant`, from a COPY text file. */
async function insertBatches(db: pg.Client, file: string, tenant: string): Promise<number> {
  const sql = (rows: number) =>
    `INSERT INTO sales_daily (${COLUMNS.join(', ')}) VALUES ${Array.from({ length: rows }, (_, r) => `(${COLUMNS.map((_c, c) => `$${r * COLUMNS.length + c + 1}`).join(', ')})`).join(', ')}`;
  const full = { name: `bench_insert_${INSERT_BATCH}`, text: sql(INSERT_BATCH) };
  let values: (string | null)[] = [];
  let n = 0;
  await db.query('BEGIN');
  for await (const line of readline.createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    if (line === '') continue;
    const f = line.split('\t').map((v) => (v === '\\N' ? null : v));
    f[0] = randomUUID();
    f[1] = tenant;
    values.push(...f);
    n++;
    if (values.length === INSERT_BATCH * COLUMNS.length) {
      await db.query({ ...full, values });
      values = [];
    }
  }
  if (values.length > 0) await db.query(sql(values.length / COLUMNS.length), values);
  await db.query('COMMIT');
  return n;
}

async function expectRows(db: pg.Client, tenant: string, rows: number): Promise<void> {
  const { rows: r } = await db.query<{ n: string }>('SELECT count(*) AS n FROM sales_daily WHERE tenant_id = $1', [
    tenant,
  ]);
  if (Number(r[0]?.n) !== rows)
    throw new Error(`sales_daily holds ${r[0]?.n} rows of tenant ${tenant}, expected ${rows}`);
}
