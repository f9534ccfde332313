import http from 'node:http';
import type { Redis } from 'ioredis';
import type { DatabaseKey } from '../catalog/services.ts';
import type { Databases } from '../db/pools.ts';
import type { Logger } from '../shared/logger.ts';
import type { RunningWorkers } from './run-workers.ts';

/**
 * The probes of a worker process: `GET /healthz` answers while its workers run;
 * `GET /readyz` also checks Redis and the databases its queues write to, and names
 * what is down (`down`) without the drivers' error text, which goes to the log.
 */
export async function startWorkerHealth(
  opts: {
    port: number;
    host: string;
    workers: RunningWorkers;
    redis: Redis;
    dbs: Databases;
    databases: readonly DatabaseKey[];
  },
  log: Logger,
): Promise<http.Server> {
  // A probe asks every few seconds: what is down is logged when it changes, not on every probe.
  let lastDown = '';
  const check = async () => {
    const { down, details } = await readiness(opts);
    const key = down.join(',');
    if (key !== lastDown) {
      if (down.length > 0) log.warn({ down: details }, 'not ready');
      else log.info('ready again');
      lastDown = key;
    }
    return down;
  };
  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const running = opts.workers.workers.every((w) => w.isRunning());
    if (req.method !== 'GET') return send(405, { error: { code: 'method_not_allowed', message: 'only GET' } });
    if (req.url === '/healthz') return send(running ? 200 : 503, { status: running ? 'ok' : 'stopping' });
    if (req.url === '/readyz') {
      void check().then(
        (down) =>
          send(running && down.length === 0 ? 200 : 503, {
            status: down.length === 0 && running ? 'ready' : 'not ready',
            down,
          }),
        (err: unknown) => {
          log.warn({ err: (err as Error).message }, 'not ready');
          send(503, { status: 'not ready', down: ['(readiness check)'] });
        },
      );
      return;
    }
    send(404, { error: { code: 'not_found', message: 'GET /healthz or /readyz' } });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  log.info({ port: opts.port }, 'worker health endpoint listening');
  return server;
}

/** The names of what does not answer, and their errors (for the log only). */
async function readiness(opts: {
  redis: Redis;
  dbs: Databases;
  databases: readonly DatabaseKey[];
}): Promise<{ down: string[]; details: Record<string, string> }> {
  const down: string[] = [];
  const details: Record<string, string> = {};
  try {
    await Promise.race([
      opts.redis.ping(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref()),
    ]);
  } catch (err) {
    down.push('redis');
    details.redis = (err as Error).message;
  }
  for (const { database, error } of await opts.dbs.unreachable(opts.databases)) {
    down.push(database);
    details[database] = error;
  }
  return { down, details };
}
