import type pg from 'pg';
import { POLL_MS, type ApiClient } from './client.ts';
import { readTiming, type SessionTiming } from './breakdown.ts';
import { summarize, type Summary } from './stats.ts';

/**
 * Latency, one session at a time: POST sent → a GET (every POLL_MS) shows `ready`
 * (client), beside the server's own `duration_ms` (creation → last service done).
 * Each session is then destroyed (DELETE → a GET shows `destroyed`, timed too)
 * before the next is created. Profiles alternate so drift on a shared machine hits both.
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
  readonly poll_ms: number;
  readonly warmup_per_profile: number;
  readonly samples: LatencySample[];
  readonly summary: Record<Profile, { client: Summary; server: Summary }>;
  readonly destroy: Summary;
  /** The session records of the professional sessions (for the breakdown), read before each was destroyed. */
  readonly timings: SessionTiming[];
}

export async function measureLatency(
  client: ApiClient,
  db: pg.Pool,
  opts: { perProfile: number; warmup: number },
  progress: (msg: string) => void,
): Promise<LatencyResult> {
  for (let i = 0; i < opts.warmup; i++) {
    for (const profile of PROFILES) await one(client, db, profile);
  }
  progress(`latency: ${opts.warmup} warm-up session(s) per profile done, measuring ${opts.perProfile} per profile`);
  const samples: LatencySample[] = [];
  const timings: SessionTiming[] = [];
  for (let i = 0; i < opts.perProfile; i++) {
    for (const profile of PROFILES) {
      const { sample, timing } = await one(client, db, profile);
      samples.push(sample);
      if (profile === 'professional') timings.push(timing);
    }
    if ((i + 1) % 10 === 0) progress(`latency: ${i + 1}/${opts.perProfile} per profile`);
  }
  const of = (p: Profile, k: 'client_ms' | 'server_ms') => samples.filter((s) => s.profile === p).map((s) => s[k]);
  return {
    poll_ms: POLL_MS,
    warmup_per_profile: opts.warmup,
    samples,
    summary: {
      professional: { client: summarize(of('professional', 'client_ms')), server: summarize(of('professional', 'server_ms')) },
      enterprise: { client: summarize(of('enterprise', 'client_ms')), server: summarize(of('enterprise', 'server_ms')) },
    },
    destroy: summarize(samples.map((s) => s.destroy_ms)),
    timings,
  };
}

async function one(client: ApiClient, db: pg.Pool, profile: Profile): Promise<{ sample: LatencySample; timing: SessionTiming }> {
  const postedAt = Date.now();
  const t0 = performance.now();
  const id = await client.create(profile);
  const ready = await client.waitFor(id, 'ready');
  const clientMs = performance.now() - t0;
  const seenAt = Date.now();
  const timing = await readTiming(db, id, { posted_at: postedAt, seen_ready_at: seenAt });
  const t1 = performance.now();
  await client.delete(id);
  await client.waitFor(id, 'destroyed');
  const destroyMs = performance.now() - t1;
  return {
    sample: { profile, session_id: id, client_ms: round(clientMs), server_ms: ready.duration_ms ?? NaN, destroy_ms: round(destroyMs) },
    timing,
  };
}

const round = (ms: number) => Math.round(ms * 10) / 10;
