import { describe, expect, it } from 'vitest';
import { SERVICES } from '../../src/catalog/services.ts';
import type { SessionRecord } from '../../src/db/sql/sessions.ts';
import { progressFromMarkers, sessionView } from '../../src/sessions/session-view.ts';

describe('progress from the load markers (Redis not answering)', () => {
  it('a committed load is ready with the sum of its rows per table; a tombstone or no marker is pending', () => {
    const p = progressFromMarkers({
      tenant: { state: 'loaded', rows: { tenants: 1, tenant_settings: 3 } },
      inventory: { state: 'loaded', rows: {} },
      suppliers: { state: 'destroyed' },
      auth: undefined,
    });
    expect(p).toEqual({ tenant: { status: 'ready', rows: 4 }, inventory: { status: 'ready', rows: 0 } });
  });

  it('makes a pending record with loaded services show as loading, the others pending', () => {
    const s = {
      session_id: '0b6f2c1e-8a7d-4c3b-9e1f-2d3c4b5a6978',
      status: 'pending',
      services: {},
      error: null,
      created_at: new Date(),
      expires_at: new Date(),
      ready_at: null,
      phases: {},
    } as unknown as SessionRecord;
    const v = sessionView(s, progressFromMarkers({ tenant: { state: 'loaded', rows: { tenants: 2 } } }));
    expect(v.status).toBe('loading');
    expect(v.services.tenant).toEqual({ status: 'ready', rows: 2, duration_ms: null });
    expect(SERVICES.filter((n) => n !== 'tenant').every((n) => v.services[n].status === 'pending')).toBe(true);
  });
});
