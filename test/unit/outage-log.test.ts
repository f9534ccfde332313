import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/shared/logger.ts';
import { isConnectionError, RedisOutageLog, redisTarget } from '../../src/redis/outage-log.ts';

interface Line {
  level: 'error' | 'warn' | 'info';
  fields: Record<string, unknown>;
  msg: string;
}

/** A logger that records its lines, and a clock the test moves. */
function setup(intervalMs = 10_000) {
  const lines: Line[] = [];
  const at = (level: Line['level']) => (fields: Record<string, unknown>, msg: string) =>
    lines.push({ level, fields, msg });
  const log = { error: at('error'), warn: at('warn'), info: at('info') } as unknown as Logger;
  let t = 1_000_000;
  const clock = {
    advance: (ms: number) => {
      t += ms;
    },
  };
  const outage = new RedisOutageLog(log, { intervalMs, now: () => t });
  return { lines, clock, outage };
}

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
const A = {
  target: '127.0.0.1:6379/0',
  source: 'worker inventory',
  msg: 'worker error',
  fields: { queue: 'inventory' },
};
const B = { target: '127.0.0.1:6379/0', source: 'worker orders', msg: 'worker error', fields: { queue: 'orders' } };

describe('RedisOutageLog', () => {
  it('an outage: one line when it starts, then at most one per interval with the count suppressed, one when it ends', () => {
    const { lines, clock, outage } = setup();
    // 2 sources erring every 500 ms for 25 s: 100 errors.
    for (let i = 0; i < 50; i++) {
      outage.error(refused(), A);
      outage.error(refused(), B);
      clock.advance(500);
    }
    outage.ready(A.target, 'shared');
    expect(lines.map((l) => l.msg)).toEqual([
      'redis connection lost',
      'redis still unreachable',
      'redis still unreachable',
      'redis connection back',
    ]);
    expect(lines[0]).toMatchObject({
      level: 'error',
      fields: {
        redis: A.target,
        source: 'worker inventory',
        queue: 'inventory',
        err: 'connect ECONNREFUSED 127.0.0.1:6379',
      },
    });
    expect(lines[1]!.fields).toMatchObject({ down_ms: 10_000, sources: ['worker inventory', 'worker orders'] });
    const suppressed = lines.slice(1).map((l) => l.fields.suppressed as number);
    // Every error but the first one logged is counted in exactly one later line.
    expect(suppressed.reduce((a, b) => a + b, 0)).toBe(99);
    expect(lines[3]).toMatchObject({ level: 'info', fields: { down_ms: 25_000, source: 'shared' } });
    expect(outage.isDown(A.target)).toBe(false);
  });

  it('a second outage is told again; a ready without an outage says nothing', () => {
    const { lines, clock, outage } = setup();
    outage.ready(A.target, 'shared');
    expect(lines).toHaveLength(0);
    outage.error(refused(), A);
    clock.advance(100);
    outage.ready(A.target, 'shared');
    clock.advance(100);
    outage.error(refused(), B);
    expect(lines.map((l) => l.msg)).toEqual([
      'redis connection lost',
      'redis connection back',
      'redis connection lost',
    ]);
    expect(outage.isDown(A.target)).toBe(true);
  });

  it('outages of two servers are kept apart', () => {
    const { lines, outage } = setup();
    outage.error(refused(), A);
    outage.error(refused(), { ...A, target: '10.0.0.1:6379/0' });
    outage.ready('10.0.0.1:6379/0', 'x');
    expect(lines.map((l) => `${l.msg} ${String(l.fields.redis)}`)).toEqual([
      'redis connection lost 127.0.0.1:6379/0',
      'redis connection lost 10.0.0.1:6379/0',
      'redis connection back 10.0.0.1:6379/0',
    ]);
    expect(outage.isDown(A.target)).toBe(true);
  });

  it('other errors: logged at once under their own message, repeats at most once per interval with their count', () => {
    const { lines, clock, outage } = setup();
    const lua = () => new Error('ERR user_script:1: Script attempted to access nonexistent global variable');
    for (let i = 0; i < 30; i++) {
      outage.error(lua(), A);
      clock.advance(1_000);
    }
    outage.error(new Error('another problem'), A);
    expect(lines.map((l) => [l.level, l.msg, l.fields.repeated])).toEqual([
      ['error', 'worker error', undefined],
      ['error', 'worker error', 9],
      ['error', 'worker error', 9],
      ['error', 'worker error', undefined],
    ]);
    expect(lines[3]!.fields.err).toBe('another problem');
    // They do not start an outage.
    expect(outage.isDown(A.target)).toBe(false);
  });

  it('watchClient and watchErrors take the events of a client and of a BullMQ object', () => {
    const { lines, outage } = setup();
    const client = Object.assign(new EventEmitter(), {
      options: { host: '127.0.0.1', port: 6390, db: 2, password: 'secret' },
    });
    outage.watchClient(client as never, 'maps');
    outage.watchClient(client as never, 'maps'); // once per client
    const worker = new EventEmitter();
    outage.watchErrors(worker, { target: redisTarget(client as never), source: 'worker x' });
    client.emit('error', refused());
    worker.emit('error', refused());
    client.emit('ready');
    expect(lines.map((l) => l.msg)).toEqual(['redis connection lost', 'redis connection back']);
    expect(lines[0]!.fields.redis).toBe('127.0.0.1:6390/2');
    expect(JSON.stringify(lines)).not.toContain('secret');
  });

  it('classifies connection errors', () => {
    expect(isConnectionError(refused())).toBe(true);
    expect(isConnectionError(new Error('Connection is closed.'))).toBe(true);
    expect(isConnectionError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isConnectionError(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).toBe(true);
    expect(isConnectionError(new Error('Missing lock for job 1. moveToFinished'))).toBe(false);
    expect(isConnectionError('a string')).toBe(false);
  });
});
