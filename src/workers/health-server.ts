import http from 'node:http';
import type { Redis } from 'ioredis';
import type { DatabaseKey } from '../catalog/services.ts';
import type { Databases } from '../db/pools.ts';
import type { Logger } from '../logger.ts';
import type { RunningWorkers } from './run-workers.ts';

/**
 * The probes of a worker process: `GET /healthz` answers while its workers run;
 * `GET /readyz` also checks Redis and the databases its queues write to.
 */
export async function startWorkerHealth(
  opts: { port: number; host: string; workers: RunningWorkers; redis: Redis; dbs: Databases; databases: readonly DatabaseKey[] },
  log: Logger,
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const running = opts.workers.workers.every((w) => w.isRunning());
    if (req.method !== 'GET') return send(405, { error: { code: 'method_not_allowed', message: 'only GET' } });
    if (req.url === '/healthz') return send(running ? 200 : 503, { status: running ? 'ok' : 'stopping' });
    if (req.url === '/readyz') {
      void readiness(opts).then(
        (problems) => send(running && problems.length === 0 ? 200 : 503, { status: problems.length === 0 && running ? 'ready' : 'not ready', problems }),
        (err: unknown) => send(503, { status: 'not ready', problems: [(err as Error).message] }),
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

async function readiness(opts: { redis: Redis; dbs: Databases; databases: readonly DatabaseKey[] }): Promise<string[]> {
  const problems: string[] = [];
  try {
    await Promise.race([opts.redis.ping(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref())]);
  } catch (err) {
    problems.push(`redis: ${(err as Error).message}`);
  }
  for (const { database, error } of await opts.dbs.unreachable(opts.databases)) problems.push(`${database}: ${error}`);
  return problems;
}
