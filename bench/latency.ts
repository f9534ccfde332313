import type pg from 'pg';
import type { ApiClient } from './client.ts';
import { readTiming, type SessionTiming } from './breakdown.ts';
import { summarize, type Summary } from './stats.ts';

/**
 * Latency, one session at a time: POST sent → the session's event stream (opened
 * right after the POST's answer) delivers `end` with `ready` (client), beside the
 * server's own `duration_ms` (creation → last service done). In rounds: 5 sessions
 * per profile created one at a time, then destroyed one at a time (DELETE → the event
 * stream ends with `destroyed`, timed too). Profiles alternate so drift on a shared
 * machine hits both.
 */
export const PROFILES = ['professional', 'enterprise'] as const;
export type Profile = (typeof PROFILES)[number];

export interface LatencySample {
  readonly profile: Profile;
  readonly session_id: string;
  readonly client_ms: number;
  readonly server_ms: number;
  readonly destroy_ms: number;
}

export interface LatencyResult {
  readonly warmup_per_profile: number;
  readonly samples: LatencySample[];
  readonly summary: Record<Profile, { client: Summary; server: Summary }>;
  readonly destroy: Summary;
  /** The session records of the professional sessions (for the breakdown), read before each was destroyed. */
  readonly timings: SessionTiming[];
}

/** Sessions created one at a time before they are destroyed one at a time. */
const ROUND = 5;

export async function measureLatency(
  client: ApiClient,
  db: pg.Pool,
  opts: { perProfile: number; warmup: number },
  progress: (msg: string) => void,
): Promise<LatencyResult> {
  for (let i = 0; i < opts.warmup; i++) {
    for (const profile of PROFILES) await destroy(client, (await create(client, db, profile, false)).sample.session_id);
  }
  progress(`latency: ${opts.warmup} warm-up session(s) per profile done, measuring ${opts.perProfile} per profile`);
  const samples: LatencySample[] = [];
  const timings: SessionTiming[] = [];
  for (let done = 0; done < opts.perProfile;) {
    // A round: a few sessions of each profile created one at a time, then destroyed one at
    // a time, so that no creation runs in the wake of a destroy (its deletes, autovacuum).
    const batch: Omit<LatencySample, 'destroy_ms'>[] = [];
    const n = Math.min(ROUND, opts.perProfile - done);
    for (let i = 0; i < n; i++) {
      for (const profile of PROFILES) {
        // The breakdown reads the professional sessions' records only.
        const { sample, timing } = await create(client, db, profile, profile === 'professional');
        batch.push(sample);
        if (timing) timings.push(timing);
      }
    }
    for (const s of batch) samples.push({ ...s, destroy_ms: await destroy(client, s.session_id) });
    const before = done;
    done += n;
    if (Math.floor(done / 10) > Math.floor(before / 10)) progress(`latency: ${done}/${opts.perProfile} per profile`);
  }
  const of = (p: Profile, k: 'client_ms' | 'server_ms') => samples.filter((s) => s.profile === p).map((s) => s[k]);
  return {
    warmup_per_profile: opts.warmup,
    samples,
    summary: {
      professional: {
        client: summarize(of('professional', 'client_ms')),
        server: summarize(of('professional', 'server_ms')),
      },
      enterprise: {
        client: summarize(of('enterprise', 'client_ms')),
        server: summarize(of('enterprise', 'server_ms')),
      },
    },
    destroy: summarize(samples.map((s) => s.destroy_ms)),
    timings,
  };
}

async function create(
  client: ApiClient,
  db: pg.Pool,
  profile: Profile,
  withTiming: boolean,
): Promise<{ sample: Omit<LatencySample, 'destroy_ms'>; timing?: SessionTiming }> {
  const postedAt = Date.now();
  const t0 = performance.now();
  const id = await client.create(profile);
  const ready = await client.follow(id, 'ready');
  const clientMs = ready.at - t0;
  const timing = withTiming
    ? await readTiming(db, id, { posted_at: postedAt, seen_ready_at: postedAt + Math.round(clientMs) })
    : undefined;
  return {
    sample: { profile, session_id: id, client_ms: round(clientMs), server_ms: ready.body.duration_ms ?? NaN },
    timing,
  };
}

/** DELETE → the session's event stream ends with `destroyed`, in ms. */
async function destroy(client: ApiClient, id: string): Promise<number> {
  const t1 = performance.now();
  await client.delete(id);
  const destroyed = await client.follow(id, 'destroyed');
  return round(destroyed.at - t1);
}

const round = (ms: number) => Math.round(ms * 10) / 10;
