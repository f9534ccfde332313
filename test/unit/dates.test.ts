import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dateShifter, daysBetween, formatDay, InvalidDateError, parseDay, utcDay } from '../../src/seed/dates.ts';

describe('date shifting', () => {
  it('moves the reference day onto the session day, across months and leap days', () => {
    const s = dateShifter(daysBetween('2026-01-15', '2028-03-01'));
    expect(s.date('2026-01-15')).toBe('2028-03-01');
    expect(s.date('2026-01-14')).toBe('2028-02-29');
    expect(s.timestamp('2026-01-15T06:30:00Z')).toBe('2028-03-01T06:30:00Z');
  });

  it('preserves the distance between any two days', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -3000, max: 3000 }),
        fc.integer({ min: 18000, max: 22000 }),
        fc.integer({ min: 18000, max: 22000 }),
        (shift, a, b) => {
          const s = dateShifter(shift);
          expect(daysBetween(s.date(formatDay(a)), s.date(formatDay(b)))).toBe(b - a);
        },
      ),
    );
  });

  it('is shared by the jobs that shift by the same days, and stays right as others come and go', () => {
    expect(dateShifter(42)).toBe(dateShifter(42));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -40, max: 40 }), fc.integer({ min: 18000, max: 22000 })), {
          minLength: 1,
          maxLength: 60,
        }),
        (uses) => {
          for (const [shift, day] of uses) expect(dateShifter(shift).date(formatDay(day))).toBe(formatDay(day + shift));
        },
      ),
    );
    const s = dateShifter(7);
    expect(s.date('2026-01-01')).toBe('2026-01-08');
    expect(() => s.date('2026-13-01')).toThrow(InvalidDateError);
  });

  it('uses the UTC calendar day', () => {
    expect(utcDay(new Date('2026-11-24T23:59:59.999Z'))).toBe('2026-11-24');
    expect(utcDay(new Date('2026-11-25T00:30:00+01:00'))).toBe('2026-11-24');
  });

  it('rejects malformed dates with the value in the message', () => {
    expect(() => parseDay('2026-02-30')).toThrow(InvalidDateError);
    expect(() => parseDay('15/01/2026')).toThrow(/15\/01\/2026/);
    expect(() => dateShifter(1).timestamp('2026-01-15 06:30')).toThrow(/UTC timestamp/);
  });

  it('refuses to move a day outside the years 0000-9999, which a date column cannot take as written', () => {
    expect(dateShifter(1).date('9999-12-30')).toBe('9999-12-31');
    expect(() => dateShifter(2).date('9999-12-30')).toThrow(/outside the years 0000-9999/);
    expect(() => dateShifter(-1).timestamp('0000-01-01T00:00:00Z')).toThrow(InvalidDateError);
  });
});
