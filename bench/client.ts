import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A small keep-alive HTTP client for the session API, as a client would use it:
 * POST, then GET every `pollMs` until the status it waits for (or a final one).
 */
export const SESSIONS_PATH = '/api/v1/demo-sessions';
export const POLL_MS = 5;

export interface SessionBody {
  session_id: string;
  status: string;
  demo_account_type: string;
  tenant_id: string;
  created_at?: string;
  ready_at?: string | null;
  duration_ms?: number | null;
  error?: string | null;
  services?: Record<string, { status: string; rows: number; duration_ms: number | null; tables?: Record<string, { rows: number; duration_ms: number }> }>;
  phases?: Record<string, { rows: number; started_at: number; finished_at: number; duration_ms: number }>;
}

export class ApiClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
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
          headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            try {
              resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : undefined) as T });
            } catch {
              reject(new Error(`${method} ${path}: ${res.statusCode} with a body that is not JSON: ${text.slice(0, 200)}`));
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
    if (res.status !== 202) throw new Error(`POST ${SESSIONS_PATH} (${profile}) answered ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
    return res.body.session_id;
  }

  async get(id: string): Promise<SessionBody> {
    const res = await this.request<SessionBody>('GET', `${SESSIONS_PATH}/${id}`);
    if (res.status !== 200) throw new Error(`GET ${SESSIONS_PATH}/${id} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
    return res.body;
  }

  async delete(id: string): Promise<void> {
    const res = await this.request<unknown>('DELETE', `${SESSIONS_PATH}/${id}`);
    if (res.status !== 202) throw new Error(`DELETE ${SESSIONS_PATH}/${id} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
  }

  /**
   * GETs the session every `pollMs` (the next GET is sent `pollMs` after the last answer)
   * until its status is `want`; throws on another final status or after `timeoutMs`.
   */
  async waitFor(id: string, want: string, timeoutMs = 60_000, pollMs = POLL_MS): Promise<SessionBody> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.get(id);
      if (s.status === want) return s;
      if (['failed', 'destroyed', 'expired'].includes(s.status)) throw new Error(`session ${id} is ${s.status}, not ${want}: ${s.error ?? ''}`);
      if (Date.now() > deadline) throw new Error(`session ${id} not ${want} within ${timeoutMs} ms (still ${s.status})`);
      await sleep(pollMs);
    }
  }

  close(): void {
    this.agent.destroy();
  }
}
