import http from 'node:http';
import { SESSIONS_PATH } from '../src/api/routes/sessions.ts';
import { FINAL_STATUSES } from '../src/api/sse.ts';

/**
 * A small keep-alive HTTP client for the session API, as a client would use it:
 * POST, then follow the session's server-sent events until the status it waits for
 * (or another final one). The API pushes an event as soon as BullMQ reports a job of
 * the session done, so no polling load is put on the API or the database.
 */

export interface SessionBody {
  session_id: string;
  status: string;
  demo_account_type: string;
  tenant_id: string;
  created_at?: string;
  ready_at?: string | null;
  duration_ms?: number | null;
  error?: string | null;
  services?: Record<
    string,
    {
      status: string;
      rows: number;
      duration_ms: number | null;
      tables?: Record<string, { rows: number; duration_ms: number }>;
    }
  >;
  phases?: Record<string, { rows: number; started_at: number; finished_at: number; duration_ms: number }>;
}

export class ApiClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  /** Event streams hold their connection until the end: their own pool, so POSTs never wait for one. */
  private readonly streamAgent = new http.Agent({ keepAlive: true });
  private emails = 0;

  constructor(readonly baseUrl: string) {}

  request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        `${this.baseUrl}${path}`,
        {
          method,
          agent: this.agent,
          headers:
            payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            try {
              resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : undefined) as T });
            } catch {
              reject(
                new Error(`${method} ${path}: ${res.statusCode} with a body that is not JSON: ${text.slice(0, 200)}`),
              );
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** POST a session; returns its id. Throws unless the API answers 202. */
  async create(profile: string): Promise<string> {
    const res = await this.request<SessionBody & { error?: unknown }>('POST', SESSIONS_PATH, {
      demo_account_type: profile,
      email: `bench+${++this.emails}@example.com`,
    });
    if (res.status !== 202)
      throw new Error(
        `POST ${SESSIONS_PATH} (${profile}) answered ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`,
      );
    return res.body.session_id;
  }

  async delete(id: string): Promise<void> {
    const res = await this.request<unknown>('DELETE', `${SESSIONS_PATH}/${id}`);
    if (res.status !== 202)
      throw new Error(
        `DELETE ${SESSIONS_PATH}/${id} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`,
      );
  }

  /**
   * Follows GET {id}/events until the `end` event; resolves with its session once the
   * status is `want` (and performance.now() when it arrived), throws on another final
   * status, an `error` event or after `timeoutMs`.
   */
  follow(id: string, want: string, timeoutMs = 120_000): Promise<{ body: SessionBody; at: number }> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const done = (err: Error | undefined, value?: { body: SessionBody; at: number }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // After `end` the server ends the response: its connection goes back to the
        // agent for the next stream, as a browser's would. Otherwise it is dropped.
        if (err || value?.body.status === undefined || !FINAL_STATUSES.has(value.body.status)) req.destroy();
        if (err) reject(err);
        else resolve(value as { body: SessionBody; at: number });
      };
      const timer = setTimeout(() => done(new Error(`session ${id} not ${want} within ${timeoutMs} ms`)), timeoutMs);
      const req = http.get(`${this.baseUrl}${SESSIONS_PATH}/${id}/events`, { agent: this.streamAgent }, (res) => {
        if (res.statusCode !== 200) {
          done(new Error(`GET ${SESSIONS_PATH}/${id}/events answered ${res.statusCode}`));
          return;
        }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const at = performance.now();
          buf += chunk;
          for (let cut = buf.indexOf('\n\n'); cut >= 0; cut = buf.indexOf('\n\n')) {
            const block = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event === 'error') return done(new Error(`session ${id}: ${data ?? 'error event'}`));
            if (event !== 'end' || data === undefined) continue;
            const body = JSON.parse(data) as SessionBody;
            if (body.status === want) return done(undefined, { body, at });
            if (FINAL_STATUSES.has(body.status))
              return done(new Error(`session ${id} is ${body.status}, not ${want}: ${body.error ?? ''}`));
          }
        });
        res.on('end', () => done(new Error(`the event stream of session ${id} ended before it was ${want}`)));
        res.on('error', (err) => done(err));
      });
      req.on('error', (err) => done(err));
    });
  }

  close(): void {
    this.agent.destroy();
    this.streamAgent.destroy();
  }
}
