import { PHASES, servicesOfPhase } from '../catalog/services.ts';
import type { SessionView } from '../sessions/session-view.ts';

/** Human-readable summary of a session: per phase and per service rows and duration_ms. */
export function formatSession(v: SessionView): string {
  const lines: string[] = [];
  lines.push(`session ${v.session_id}: ${v.status}${v.duration_ms !== null ? ` in ${v.duration_ms} ms` : ''}`);
  lines.push(
    `profile ${v.demo_account_type}, tenant ${v.tenant_id}${v.tenant_ids.length > 1 ? ` (+${v.tenant_ids.length - 1} more)` : ''}, expires ${v.expires_at}`,
  );
  if (v.error) lines.push(`error: ${v.error}`);
  lines.push('');
  lines.push(pad(['phase', 'service', 'status', 'rows', 'duration_ms']));
  let total = 0;
  for (const p of PHASES) {
    for (const s of servicesOfPhase(p)) {
      const sv = v.services[s];
      total += sv.rows;
      lines.push(
        pad([String(p), s, sv.status, String(sv.rows), sv.duration_ms === null ? '-' : String(sv.duration_ms)]),
      );
    }
    const ph = v.phases[p];
    if (ph) lines.push(pad([String(p), '(phase)', 'completed', String(ph.rows), String(ph.duration_ms)]));
  }
  lines.push(pad(['', 'total', v.status, String(total), v.duration_ms === null ? '-' : String(v.duration_ms)]));
  return lines.join('\n');
}

function pad(cells: string[]): string {
  const widths = [6, 14, 10, 8, 12];
  return cells
    .map((c, i) => (i >= 3 ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
    .join(' ')
    .trimEnd();
}
