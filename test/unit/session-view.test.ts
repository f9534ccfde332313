import { describe, expect, it } from 'vitest';
import { SERVICES } from '../../src/catalog/services.ts';
import type { ServiceJobResult } from '../../src/flows/jobs.ts';
import type { SessionRecord } from '../../src/db/sql/sessions.ts';
import { sessionView } from '../../src/sessions/session-view.ts';

const record = (over: Partial<SessionRecord> = {}): SessionRecord => ({
  session_id: '0b6f2c1e-8a7d-4c3b-9e1f-2d3c4b5a6978',
  status: 'pending',
  demo_account_type: 'professional',
  email: 'a@example.com',
  email_mailbox: 'a@example.com',
  subscription_tier: null,
  tenant_id: '1b6f2c1e-8a7d-4c3b-9e1f-2d3c4b5a6978',
  tenant_ids: ['1b6f2c1e-8a7d-4c3b-9e1f-2d3c4b5a6978'],
  created_at: new Date('2026-11-24T10:00:00Z'),
  expires_at: new Date('2026-11-24T10:30:00Z'),
  ready_at: null,
  duration_ms: null,
  error: null,
  services: {},
  phases: {},
  updated_at: new Date('2026-11-24T10:00:00Z'),
  data_dir: '/seed-data',
  ending: null,
  queue_prefix: '{demo}',
  idempotency_key: null,
  request_fingerprint: null,
  trace_id: null,
  ...over,
});
const result = (service: string, rows: number) =>
  ({ service, rows, duration_ms: 5, tables: {} }) as unknown as ServiceJobResult;

describe('session view', () => {
  it('lists all 11 services, pending before anything started', () => {
    const v = sessionView(record());
    expect(Object.keys(v.services).sort()).toEqual([...SERVICES].sort());
    expect(v.status).toBe('pending');
    expect(Object.values(v.services).every((s) => s.status === 'pending' && s.rows === 0)).toBe(true);
  });

  it('reports loading as soon as a worker has started a service, with live rows', () => {
    const v = sessionView(record(), {
      tenant: { status: 'ready', rows: 2, duration_ms: 4 },
      inventory: { status: 'loading' },
    });
    expect(v.status).toBe('loading');
    expect(v.services.tenant).toMatchObject({ status: 'ready', rows: 2, duration_ms: 4 });
    expect(v.services.inventory.status).toBe('loading');
  });

  it('names the failed service and shows what had loaded as removed', () => {
    const v = sessionView(
      record({ status: 'failed', error: 'forecasting: boom', services: { sales: result('sales', 270) } }),
    );
    expect(v.services.forecasting).toMatchObject({ status: 'failed', error: 'boom' });
    expect(v.services.sales).toMatchObject({ status: 'removed', rows: 270 });
    expect(v.services.auth.status).toBe('pending');
  });

  it('keeps the timestamps as ISO strings', () => {
    const v = sessionView(record({ status: 'ready', ready_at: new Date('2026-11-24T10:00:00.090Z'), duration_ms: 90 }));
    expect(v).toMatchObject({
      created_at: '2026-11-24T10:00:00.000Z',
      ready_at: '2026-11-24T10:00:00.090Z',
      duration_ms: 90,
    });
  });
});
