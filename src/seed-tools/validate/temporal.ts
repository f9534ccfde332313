import { DATE_RE, TIMESTAMP_RE, formatDay, parseDay } from '../../seed/dates.ts';
import { columnsOf, str, type RecordView, type RuleContext, type RuleFamily } from './report.ts';

/**
 * Dates and timestamps.
 *
 * 1. They parse: dates are "YYYY-MM-DD" calendar days, timestamps
 *    "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (UTC) with a real time of day.
 * 2. The window: the loader moves every date so that `reference_date` becomes the
 *    session's day, so history is `[reference_date - (history_days - 1),
 *    reference_date]`. Every date (a timestamp by its UTC day) lies in it, except
 *    where future data belongs, decided by column (`FUTURE`) and file:
 *    - planned production (`production_batches.planned_start/planned_end`), open
 *      purchase orders' `expected_delivery_date`, pending customer orders'
 *      `delivery_date`, planned routes (`route_date`, their stops' `planned_arrival`
 *      and shipments' `shipped_at`) and `forecasts.forecast_date` may lie up to
 *      `FUTURE_HORIZON_DAYS` (14) days after the reference day;
 *    - `stock.expiry_date` may lie any time after it (flour keeps for a year);
 *    - a file whose name says `historical` holds history only: no future date at all.
 *    Nothing lies before the window, future columns included. Actual times
 *    (`actual_start`, `received_date`, `completed_at`, ...) and order dates are
 *    never in the future.
 * 3. Starts before ends: `planned_start < planned_end`; `actual_start < actual_end`
 *    when both are set, and no `actual_end` without `actual_start`; an
 *    orchestration run completes no earlier than it starts, and its actions are
 *    created while it runs (`started_at <= created_at <= completed_at`).
 * 4. Deliveries on or after their orders: purchase orders' `expected_delivery_date`
 *    and `received_date` >= `order_date`; customer orders' `delivery_date` >=
 *    `order_date`; a route's stops are reached and its shipments leave no earlier
 *    than the route's day, and a shipment leaves no later than the planned arrival
 *    at its stop.
 */
export const FUTURE_HORIZON_DAYS = 14;

const FUTURE: Readonly<Record<string, number>> = {
  'production.production_batches.planned_start': FUTURE_HORIZON_DAYS,
  'production.production_batches.planned_end': FUTURE_HORIZON_DAYS,
  'procurement.purchase_orders.expected_delivery_date': FUTURE_HORIZON_DAYS,
  'orders.customer_orders.delivery_date': FUTURE_HORIZON_DAYS,
  'orders.delivery_routes.route_date': FUTURE_HORIZON_DAYS,
  'orders.route_stops.planned_arrival': FUTURE_HORIZON_DAYS,
  'orders.shipments.shipped_at': FUTURE_HORIZON_DAYS,
  'forecasting.forecasts.forecast_date': FUTURE_HORIZON_DAYS,
  'inventory.stock.expiry_date': Infinity,
};

const DAY_MS = 86_400_000;
const TIME_RE = /T(\d{2}):(\d{2}):(\d{2})/;

/** A parsed date or timestamp: its UTC day number and its instant. */
interface When {
  readonly day: number;
  readonly ms: number;
}

export function parseWhen(kind: 'date' | 'timestamp', v: string): When | undefined {
  if (!(kind === 'date' ? DATE_RE : TIMESTAMP_RE).test(v)) return undefined;
  let day: number;
  try {
    day = parseDay(v.slice(0, 10));
  } catch {
    return undefined;
  }
  if (kind === 'date') return { day, ms: day * DAY_MS };
  const [, h, m, s] = TIME_RE.exec(v) as RegExpExecArray;
  if (Number(h) > 23 || Number(m) > 59 || Number(s) > 59) return undefined;
  return { day, ms: Date.parse(v) };
}

type Parsed = Record<string, When | undefined>;

export class TemporalRules implements RuleFamily {
  private readonly first: number;
  private readonly last: number;
  private readonly routeDay = new Map<string, number>();
  private readonly stopArrival = new Map<string, number>();
  private readonly runSpan = new Map<string, { start?: number; end?: number }>();
  /** Parsed values by kind and text: a profile has few distinct days, and sales rows repeat them. */
  private readonly cache = new Map<string, When | null>();

  constructor(private readonly ctx: RuleContext) {
    this.last = parseDay(ctx.referenceDate);
    this.first = this.last - (ctx.historyDays - 1);
  }

  private parse(kind: 'date' | 'timestamp', v: string): When | undefined {
    const key = kind === 'date' ? v : `T${v}`;
    let w = this.cache.get(key);
    if (w === undefined) {
      w = parseWhen(kind, v) ?? null;
      if (this.cache.size > 100_000) this.cache.clear();
      this.cache.set(key, w);
    }
    return w ?? undefined;
  }

  private window(): string {
    return `${formatDay(this.first)}..${formatDay(this.last)}`;
  }

  visit(r: RecordView): void {
    const sink = this.ctx.sink;
    const when: Parsed = {};
    let historical: boolean | undefined;
    for (const { name, kind } of columnsOf(r.spec).dates) {
      const v = str(r, name);
      if (v === undefined) continue;
      const w = this.parse(kind, v);
      if (!w) {
        sink.at(
          'error',
          r,
          name,
          kind === 'date'
            ? `not a calendar date "YYYY-MM-DD": ${JSON.stringify(v)}`
            : `not a UTC timestamp "YYYY-MM-DDTHH:MM:SSZ": ${JSON.stringify(v)}`,
        );
        continue;
      }
      when[name] = w;
      if (w.day >= this.first && w.day <= this.last) continue;
      if (w.day < this.first) {
        sink.at(
          'error',
          r,
          name,
          `${v} is before the history window ${this.window()} (reference_date ${this.ctx.referenceDate}, history_days ${this.ctx.historyDays})`,
        );
        continue;
      }
      historical ??= /historical/i.test(r.file.path);
      const horizon = historical ? 0 : (FUTURE[`${r.entity}.${name}`] ?? 0);
      if (horizon === 0) {
        sink.at(
          'error',
          r,
          name,
          `${v} is after the reference day ${this.ctx.referenceDate}: ${historical ? 'a historical file holds no future dates' : `${r.entity}.${name} is history (window ${this.window()})`}`,
        );
      } else if (w.day > this.last + horizon) {
        sink.at(
          'error',
          r,
          name,
          `${v} is more than ${horizon} days after the reference day ${this.ctx.referenceDate}`,
        );
      }
    }
    const id = str(r, 'id');
    switch (r.entity) {
      case 'production.production_batches':
        this.before(r, when, 'planned_start', 'planned_end', true, 'planned_end must be after planned_start');
        this.before(r, when, 'actual_start', 'actual_end', true, 'actual_end must be after actual_start');
        if (r.rec.actual_end !== null && r.rec.actual_start === null && when.actual_end)
          sink.at('error', r, 'actual_start', 'a batch that has an actual_end has an actual_start');
        break;
      case 'procurement.purchase_orders':
        this.before(
          r,
          when,
          'order_date',
          'expected_delivery_date',
          false,
          'a purchase order is expected on or after its order_date',
        );
        this.before(
          r,
          when,
          'order_date',
          'received_date',
          false,
          'a purchase order is received on or after its order_date',
        );
        break;
      case 'orders.customer_orders':
        this.before(
          r,
          when,
          'order_date',
          'delivery_date',
          false,
          'a customer order is delivered on or after its order_date',
        );
        break;
      case 'orchestrator.orchestration_runs':
        this.before(r, when, 'started_at', 'completed_at', false, 'a run completes no earlier than it starts');
        if (id !== undefined) this.runSpan.set(id, { start: when.started_at?.ms, end: when.completed_at?.ms });
        break;
      case 'orders.delivery_routes':
        if (id !== undefined && when.route_date) this.routeDay.set(id, when.route_date.day);
        break;
      case 'orders.route_stops':
        if (id !== undefined && when.planned_arrival) this.stopArrival.set(id, when.planned_arrival.ms);
        break;
    }
  }

  /** `a` before `b` (or at the same time when not `strict`); reported on `b`. */
  private before(r: RecordView, when: Parsed, a: string, b: string, strict: boolean, message: string): void {
    const x = when[a];
    const y = when[b];
    if (x && y && (strict ? !(x.ms < y.ms) : x.ms > y.ms))
      this.ctx.sink.at('error', r, b, `${message} (${a} ${String(r.rec[a])}, ${b} ${String(r.rec[b])})`);
  }

  private at(r: RecordView, column: string): When | undefined {
    const v = str(r, column);
    const kind = r.spec.columns[column]?.kind;
    return v !== undefined && (kind === 'date' || kind === 'timestamp') ? this.parse(kind, v) : undefined;
  }

  private routeDayOf(r: RecordView): number | undefined {
    const route = str(r, 'route_id');
    return route === undefined ? undefined : this.routeDay.get(route);
  }

  resolve(r: RecordView): void {
    const sink = this.ctx.sink;
    switch (r.entity) {
      case 'orders.route_stops': {
        const a = this.at(r, 'planned_arrival');
        const day = this.routeDayOf(r);
        if (a && day !== undefined && a.day < day)
          sink.at('error', r, 'planned_arrival', `a stop is reached no earlier than its route's day ${formatDay(day)}`);
        break;
      }
      case 'orders.shipments': {
        const s = this.at(r, 'shipped_at');
        const day = this.routeDayOf(r);
        const stop = str(r, 'stop_id');
        const arrival = stop === undefined ? undefined : this.stopArrival.get(stop);
        if (s && day !== undefined && s.day < day)
          sink.at('error', r, 'shipped_at', `a shipment leaves no earlier than its route's day ${formatDay(day)}`);
        else if (s && arrival !== undefined && s.ms > arrival)
          sink.at(
            'error',
            r,
            'shipped_at',
            `a shipment leaves no later than the planned arrival at its stop (${iso(arrival)})`,
          );
        break;
      }
      case 'orchestrator.orchestration_actions': {
        const c = this.at(r, 'created_at');
        const run = str(r, 'run_id');
        const span = run === undefined ? undefined : this.runSpan.get(run);
        if (!c || !span) break;
        if (span.start !== undefined && c.ms < span.start)
          sink.at('error', r, 'created_at', `an action is created no earlier than its run starts (${iso(span.start)})`);
        else if (span.end !== undefined && c.ms > span.end)
          sink.at('error', r, 'created_at', `an action is created no later than its run completes (${iso(span.end)})`);
        break;
      }
    }
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}
