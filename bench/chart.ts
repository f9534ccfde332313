import type { BenchResult } from './report.ts';
import type { SessionTiming } from './breakdown.ts';
import { cdf } from './stats.ts';

/**
 * The run's chart, hand-written SVG: the latency CDF of each profile (client and
 * server), then one professional session as a Gantt of its 11 services (queue wait
 * light, work dark), with its phases and the client's POST and ready marks.
 */
const W = 1000;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12"';
const COLORS = {
  client: '#1f77b4',
  server: '#ff7f0e',
  wait: '#c6dbef',
  work: '#2171b5',
  phase: ['#9e9ac8', '#74c476', '#fd8d3c', '#f768a1'],
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** About `count` round tick values from 0, the last one ≥ max. */
export function ticks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const out = [0];
  while ((out[out.length - 1] as number) < max - step * 1e-9) out.push(Math.round(out.length * step * 1e6) / 1e6);
  return out;
}

function cdfPanel(
  x0: number,
  y0: number,
  w: number,
  h: number,
  title: string,
  series: Array<{ name: string; color: string; values: number[] }>,
): string {
  const max = Math.max(...series.flatMap((s) => s.values), 1);
  const xt = ticks(max);
  const xmax = xt[xt.length - 1] as number;
  const sx = (v: number) => x0 + (v / xmax) * w;
  const sy = (p: number) => y0 + h - p * h;
  const out: string[] = [`<text x="${x0}" y="${y0 - 12}" font-weight="bold">${esc(title)}</text>`];
  for (const t of xt) {
    out.push(`<line x1="${sx(t)}" y1="${y0}" x2="${sx(t)}" y2="${y0 + h}" stroke="#eee"/>`);
    out.push(`<text x="${sx(t)}" y="${y0 + h + 15}" text-anchor="middle">${t}</text>`);
  }
  for (const p of [0, 0.25, 0.5, 0.75, 0.95, 1]) {
    out.push(
      `<line x1="${x0}" y1="${sy(p)}" x2="${x0 + w}" y2="${sy(p)}" stroke="${p === 0.5 || p === 0.95 ? '#ccc' : '#eee'}"/>`,
    );
    out.push(`<text x="${x0 - 6}" y="${sy(p) + 4}" text-anchor="end">${Math.round(p * 100)}%</text>`);
  }
  out.push(`<text x="${x0 + w / 2}" y="${y0 + h + 32}" text-anchor="middle">ms, POST → ready</text>`);
  // Under the axis, where no curve can run.
  const legend: string[] = [];
  series.forEach((s, i) => {
    const pts = cdf(s.values);
    let d = `M${sx(pts[0]?.x ?? 0).toFixed(1)},${sy(0).toFixed(1)}`;
    let prevY = 0;
    for (const p of pts) {
      d += ` L${sx(p.x).toFixed(1)},${sy(prevY).toFixed(1)} L${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`;
      prevY = p.y;
    }
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    const lx = x0 + i * (w / 2);
    legend.push(`<rect x="${lx}" y="${y0 + h + 44}" width="12" height="3" fill="${s.color}"/>`);
    legend.push(`<text x="${lx + 18}" y="${y0 + h + 49}" font-size="11">${esc(s.name)} (n=${s.values.length})</text>`);
  });
  out.push(...legend);
  out.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  return out.join('\n');
}

function ganttPanel(y0: number, t: SessionTiming): { svg: string; height: number } {
  const services = Object.values(t.services).sort((a, b) => a.wave - b.wave || a.started_at - b.started_at);
  const x0 = 170;
  const w = W - x0 - 110;
  const rowH = 22;
  const top = y0 + 30 + 14 * Object.keys(t.phases).length;
  const h = services.length * rowH;
  const start = Math.min(t.posted_at, t.created_at);
  const end = Math.max(t.seen_ready_at, t.marked_ready_at);
  const xt = ticks(end - start, 8);
  const xmax = xt[xt.length - 1] as number;
  const sx = (at: number) => x0 + ((at - start) / xmax) * w;
  const out: string[] = [
    `<text x="20" y="${y0}" font-weight="bold">${esc(`One professional session (the median by server time): ${t.duration_ms} ms server, ${t.seen_ready_at - t.posted_at} ms client`)}</text>`,
  ];
  const phases = Object.entries(t.phases).sort(([a], [b]) => Number(a) - Number(b));
  phases.forEach(([p, ph], i) => {
    const y = y0 + 14 + i * 14;
    const x1 = sx(ph.started_at);
    const x2 = sx(ph.finished_at);
    out.push(`<rect x="${x1}" y="${y}" width="${Math.max(1, x2 - x1)}" height="10" fill="${COLORS.phase[i % 4]}"/>`);
    out.push(
      `<text x="${x2 + 4}" y="${y + 9}" font-size="10">${esc(`phase ${p}: ${ph.duration_ms} ms, ${ph.rows} rows`)}</text>`,
    );
  });
  for (const v of xt) {
    out.push(`<line x1="${sx(start + v)}" y1="${top}" x2="${sx(start + v)}" y2="${top + h}" stroke="#ddd"/>`);
    out.push(`<text x="${sx(start + v)}" y="${top + h + 15}" text-anchor="middle">${v}</text>`);
  }
  out.push(`<text x="${x0 + w / 2}" y="${top + h + 32}" text-anchor="middle">ms since the POST was sent</text>`);
  services.forEach((s, i) => {
    const y = top + i * rowH + 4;
    out.push(
      `<rect x="${x0 - 12}" y="${y - 1}" width="7" height="${rowH - 6}" fill="${COLORS.phase[(s.phase - 1) % 4]}"/>`,
    );
    out.push(
      `<text x="${x0 - 18}" y="${y + 12}" text-anchor="end">${esc(`${s.service} (p${s.phase}, w${s.wave})`)}</text>`,
    );
    out.push(
      `<rect x="${sx(s.queued_at)}" y="${y}" width="${Math.max(1, sx(s.started_at) - sx(s.queued_at))}" height="${rowH - 8}" fill="${COLORS.wait}"><title>${esc(`${s.service}: queue wait ${s.started_at - s.queued_at} ms`)}</title></rect>`,
    );
    out.push(
      `<rect x="${sx(s.started_at)}" y="${y}" width="${Math.max(1, sx(s.finished_at) - sx(s.started_at))}" height="${rowH - 8}" fill="${COLORS.work}"><title>${esc(`${s.service}: work ${s.duration_ms} ms, ${s.rows} rows`)}</title></rect>`,
    );
    out.push(
      `<text x="${sx(s.finished_at) + 4}" y="${y + 11}" font-size="10" fill="#555">${s.started_at - s.queued_at}+${s.duration_ms}</text>`,
    );
  });
  const marks: Array<[number, string, string]> = [
    [t.posted_at, 'POST', '#555'],
    [t.created_at, 'recorded', '#555'],
    [t.marked_ready_at, 'marked ready', '#2ca02c'],
    [t.seen_ready_at, 'client sees ready', '#d62728'],
  ];
  marks.forEach(([at, label, color], i) => {
    out.push(
      `<line x1="${sx(at)}" y1="${top - 4}" x2="${sx(at)}" y2="${top + h}" stroke="${color}" stroke-dasharray="4 3"/>`,
    );
    out.push(
      `<text x="${sx(at)}" y="${top + h + 46 + (i % 2) * 14}" text-anchor="middle" fill="${color}" font-size="11">${label}</text>`,
    );
  });
  const ly = top + h + 84;
  out.push(
    `<rect x="${x0}" y="${ly - 9}" width="14" height="10" fill="${COLORS.wait}"/><text x="${x0 + 20}" y="${ly}">queue wait (queued → started)</text>`,
  );
  out.push(
    `<rect x="${x0 + 230}" y="${ly - 9}" width="14" height="10" fill="${COLORS.work}"/><text x="${x0 + 250}" y="${ly}">work (duration_ms); labels: wait+work ms; p = phase (colour), w = wave</text>`,
  );
  return { svg: out.join('\n'), height: ly - y0 + 20 };
}

export function renderChart(r: BenchResult, session: SessionTiming): string {
  const pick = (p: string, k: 'client_ms' | 'server_ms') =>
    r.latency.samples.filter((s) => s.profile === p).map((s) => s[k]);
  const panelW = (W - 3 * 70) / 2;
  const a = cdfPanel(70, 70, panelW, 220, 'professional: latency CDF', [
    { name: 'client (event stream)', color: COLORS.client, values: pick('professional', 'client_ms') },
    { name: 'server duration_ms', color: COLORS.server, values: pick('professional', 'server_ms') },
  ]);
  const b = cdfPanel(70 * 2 + panelW, 70, panelW, 220, 'enterprise: latency CDF', [
    { name: 'client (event stream)', color: COLORS.client, values: pick('enterprise', 'client_ms') },
    { name: 'server duration_ms', color: COLORS.server, values: pick('enterprise', 'server_ms') },
  ]);
  const g = ganttPanel(390, session);
  const height = 390 + g.height;
  const m = r.machine;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" ${FONT}>
<rect width="100%" height="100%" fill="white"/>
<text x="20" y="24" font-size="15" font-weight="bold">${esc(`demo-seed benchmark (${r.mode}), ${r.started_at}`)}</text>
<text x="20" y="42" fill="#555">${esc(`${m.cpu}, ${m.cores} cores; Node ${m.node}; PostgreSQL ${m.postgres}; Redis ${m.redis}; load average ${m.load_start}`)}</text>
${a}
${b}
${g.svg}
</svg>
`;
}
