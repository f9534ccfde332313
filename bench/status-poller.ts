import type pg from 'pg';

/**
 * Waits for many sessions at once with one query every `intervalMs` on the bench's
 * demo_session database (`demo_sessions.status`, what GET reports), instead of one
 * GET per session: with 32 sessions in flight, a GET every 5 ms each would put
 * 6,400 requests a second on the API process and take CPU from the workers it measures.
 */
interface Waiter {
  readonly want: string;
  readonly deadline: number;
  resolve(at: number): void;
  reject(err: Error): void;
}

const FINAL = new Set(['ready', 'failed', 'destroyed', 'expired']);

export class StatusPoller {
  private readonly waiting = new Map<string, Waiter>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly db: pg.Pool,
    private readonly intervalMs = 5,
  ) {}

  /** Resolves with Date.now() of the poll that first saw `want`; rejects on another final status. */
  wait(sessionId: string, want: string, timeoutMs = 120_000): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.waiting.set(sessionId, { want, deadline: Date.now() + timeoutMs, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer || this.running || this.waiting.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.poll();
    }, this.intervalMs);
  }

  private async poll(): Promise<void> {
    this.running = true;
    try {
      const ids = [...this.waiting.keys()];
      const { rows } = await this.db.query<{ session_id: string; status: string; error: string | null }>(
        'SELECT session_id, status, error FROM demo_sessions WHERE session_id = ANY($1::uuid[])',
        [ids],
      );
      const now = Date.now();
      const seen = new Map(rows.map((r) => [r.session_id, r]));
      for (const id of ids) {
        const w = this.waiting.get(id) as Waiter;
        const r = seen.get(id);
        if (r?.status === w.want) {
          this.waiting.delete(id);
          w.resolve(now);
        } else if (r && FINAL.has(r.status)) {
          this.waiting.delete(id);
          w.reject(new Error(`session ${id} is ${r.status}, not ${w.want}${r.error ? `: ${r.error}` : ''}`));
        } else if (now > w.deadline) {
          this.waiting.delete(id);
          w.reject(new Error(`session ${id} not ${w.want} in time (still ${r?.status ?? 'unknown'})`));
        }
      }
    } catch (err) {
      for (const [id, w] of this.waiting) {
        this.waiting.delete(id);
        w.reject(err as Error);
      }
    } finally {
      this.running = false;
      this.schedule();
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
