import http from 'node:http';
import { expect } from 'vitest';
import request from 'supertest';
import { startApi, type ApiOptions, type RunningApi } from '../../src/api/server.ts';
import type { Runtime } from '../../src/runtime/runtime.ts';
import type { Config } from '../../src/config/env.ts';
import type { SessionView } from '../../src/sessions/session-view.ts';
import type { Harness } from '../support/harness.ts';
import { eventually } from '../support/harness.ts';

/** Helpers shared by the API tests: servers on 127.0.0.1 only, the error shape, SSE reading. */

export const PATH = '/api/v1/demo-sessions';
export const FINAL = ['ready', 'failed', 'destroyed', 'expired'];

/** Starts the API on 127.0.0.1 (a free port) over a harness' runtime, with config overrides. */
export async function startTestApi(
  h: Harness,
  overrides: Partial<Config> = {},
  opts: ApiOptions & { runtime?: Pick<Runtime, 'producer' | 'dbs' | 'redis'> } = {},
): Promise<RunningApi> {
  const cfg: Config = { ...h.cfg, PORT: 0, HOST: '127.0.0.1', ...overrides };
  return startApi(cfg, opts.runtime ?? h.rt, h.rt.log, opts);
}

export function client(api: RunningApi) {
  return request(api.server);
}

/** `{"error": {"code", "message"}}`, with no stack trace anywhere in the text. */
export function expectErrorShape(
  res: { status: number; body: unknown; text: string; headers: Record<string, string> },
  status?: number,
  code?: string,
): void {
  if (status !== undefined) expect(res.status, res.text).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.body as { error?: { code?: unknown; message?: unknown } };
  expect(typeof body.error?.code, res.text).toBe('string');
  expect(typeof body.error?.message, res.text).toBe('string');
  if (code !== undefined) expect(body.error?.code, res.text).toBe(code);
  expect(res.text).not.toMatch(/\bat .+\.(ts|js):\d+|node_modules|Error: /);
}

/** POST a session as JSON, with any extra headers (Idempotency-Key, X-Forwarded-For, ...). */
export async function postSession(
  api: RunningApi,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  return client(api).post(PATH).set('Content-Type', 'application/json').set(headers).send(JSON.stringify(body));
}

let emails = 0;
/** A fresh email per call, so the per-email cap never interferes unless a test wants it. */
export function freshEmail(tag = 'test'): string {
  return `${tag}-${process.pid}-${++emails}-${Date.now()}@example.com`;
}

export async function waitForStatus(
  api: RunningApi,
  id: string,
  statuses: readonly string[],
  timeoutMs = 60_000,
): Promise<SessionView> {
  return eventually(
    async () => {
      const res = await client(api).get(`${PATH}/${id}`);
      expect(res.status, res.text).toBe(200);
      const v = res.body as SessionView;
      if (statuses.includes(v.status)) return v;
      const settled =
        v.status === 'destroyed' || v.status === 'expired' || (v.status === 'failed' && statuses.includes('ready'));
      if (settled && !statuses.includes(v.status)) throw new Error(`session ${id} ended ${v.status}: ${v.error ?? ''}`);
      return undefined;
    },
    timeoutMs,
    `session ${id} to be ${statuses.join(' or ')}`,
  );
}

export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

export interface SseConnection {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly events: SseEvent[];
  readonly comments: string[];
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

/** Opens an event stream with node:http and parses it as it arrives. */
export function openSse(api: RunningApi, path: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${api.url}${path}`, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
      const events: SseEvent[] = [];
      const comments: string[] = [];
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const ev: SseEvent = { event: 'message', data: '' };
          let isEvent = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) {
              comments.push(line.slice(1).trim());
            } else if (line.startsWith('event: ')) {
              ev.event = line.slice(7);
              isEvent = true;
            } else if (line.startsWith('data: ')) {
              ev.data += line.slice(6);
              isEvent = true;
            } else if (line.startsWith('id: ')) {
              ev.id = line.slice(4);
            }
          }
          if (isEvent) events.push(ev);
        }
      });
      const ended = new Promise<void>((r) => res.on('close', () => r()));
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        comments,
        ended,
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}

/** Prometheus text → `name{labels}` → value. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    out.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return out;
}
