/**
 * Seed files hold dates relative to the profile's reference day. A session moves
 * every date by the whole days between that day and its creation day (UTC).
 */
const DAY_MS = 86_400_000;
export const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
export const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

export class InvalidDateError extends Error {
  override name = 'InvalidDateError';
}

export function parseDay(day: string): number {
  if (!DATE_RE.test(day)) throw new InvalidDateError(`not a date (YYYY-MM-DD): ${JSON.stringify(day)}`);
  const ms = Date.parse(`${day}T00:00:00Z`);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== day) {
    throw new InvalidDateError(`not a calendar date: ${JSON.stringify(day)}`);
  }
  return ms / DAY_MS;
}

export function formatDay(dayNumber: number): string {
  const day = new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
  // Past year 9999 (or before year 0) toISOString writes six digits and a sign.
  if (!DATE_RE.test(day)) throw new InvalidDateError(`day ${dayNumber} is outside the years 0000-9999`);
  return day;
}

/** The UTC calendar day of an instant, as YYYY-MM-DD. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

export function daysBetween(from: string, to: string): number {
  return parseDay(to) - parseDay(from);
}

export interface DateShifter {
  readonly days: number;
  date(value: string): string;
  timestamp(value: string): string;
}

/**
 * Shifters already made, by their number of days. Every session created on the same
 * day shifts by the same days, so their jobs share one shifter and its cache of days.
 * Kept small: a process running across midnight needs a new one a day.
 */
const SHIFTERS = new Map<number, DateShifter>();
const MAX_SHIFTERS = 8;
/** Distinct days a shifter remembers (about 27 years of them). */
const MAX_CACHED_DAYS = 10_000;

/** Moves dates and timestamps by `days`, caching per distinct day (a profile has few). */
export function dateShifter(days: number): DateShifter {
  let shifter = SHIFTERS.get(days);
  if (shifter === undefined) {
    if (SHIFTERS.size >= MAX_SHIFTERS) SHIFTERS.delete(SHIFTERS.keys().next().value as number);
    shifter = newDateShifter(days);
    SHIFTERS.set(days, shifter);
  }
  return shifter;
}

function newDateShifter(days: number): DateShifter {
  const cache = new Map<string, string>();
  const shiftDay = (day: string): string => {
    let out = cache.get(day);
    if (out === undefined) {
      out = formatDay(parseDay(day) + days);
      if (cache.size < MAX_CACHED_DAYS) cache.set(day, out);
    }
    return out;
  };
  return {
    days,
    date: shiftDay,
    timestamp(value: string): string {
      if (!TIMESTAMP_RE.test(value)) {
        throw new InvalidDateError(`not a UTC timestamp (YYYY-MM-DDTHH:MM:SSZ): ${JSON.stringify(value)}`);
      }
      return shiftDay(value.slice(0, 10)) + value.slice(10);
    },
  };
}
