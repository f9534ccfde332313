/**
 * Dates of a profile, written relative to its reference day. A moment is a
 * whole number of seconds from the reference day's midnight (UTC), so
 * `moment(-89, 6)` is 06:00 on the oldest day of a 90-day history.
 */
export const REFERENCE_DATE = '2026-01-15';

const REF_MS = Date.parse(`${REFERENCE_DATE}T00:00:00Z`);
const DAY_S = 86_400;

/** `YYYY-MM-DD` of the day `offset` days after the reference day (negative: before). */
export function day(offset: number): string {
  return new Date(REF_MS + offset * DAY_S * 1000).toISOString().slice(0, 10);
}

/** Seconds from the reference day's midnight to `hours:minutes:seconds` on day `offset`. */
export function moment(offset: number, hours: number, minutes = 0, seconds = 0): number {
  return offset * DAY_S + hours * 3600 + minutes * 60 + seconds;
}

/** `YYYY-MM-DDTHH:MM:SSZ` of a moment. */
export function timestamp(at: number): string {
  return `${new Date(REF_MS + Math.round(at) * 1000).toISOString().slice(0, 19)}Z`;
}

/** Day offset a moment falls on. */
export function dayOf(at: number): number {
  return Math.floor(at / DAY_S);
}

/** 0 = Sunday ... 6 = Saturday, for day `offset`. */
export function weekday(offset: number): number {
  return new Date(REF_MS + offset * DAY_S * 1000).getUTCDay();
}

/** Day offsets of a history of `days` days ending on the reference day, oldest first. */
export function historyOffsets(days: number): number[] {
  return Array.from({ length: days }, (_, i) => i - (days - 1));
}
