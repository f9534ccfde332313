import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pgText } from '../support/arbitraries.ts';
import { encodeCopyValue, escapeCopyText } from '../../src/load/copy-encoding.ts';
import { decodeCopyRow, encodeCopyRow } from '../support/copy-text.ts';

describe('COPY text encoding', () => {
  it('escapes backslash, tab, newline and carriage return', () => {
    expect(escapeCopyText('a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re');
    expect(escapeCopyText('plain ñ €')).toBe('plain ñ €');
  });

  it('writes NULL as \\N and keeps the empty string distinct from it', () => {
    expect(encodeCopyValue(null)).toBe('\\N');
    expect(encodeCopyValue(undefined)).toBe('\\N');
    expect(encodeCopyValue('')).toBe('');
    expect(encodeCopyValue('\\N')).toBe('\\\\N');
  });

  it('encodes booleans, numbers and JSON', () => {
    expect(encodeCopyRow([true, false, 1.5, 42n, { a: 'x\ty' }])).toBe('t\tf\t1.5\t42\t{"a":"x\\\\ty"}\n');
  });

  it('refuses NUL and non-finite numbers with a clear error', () => {
    expect(() => escapeCopyText('a\0b')).toThrow(/NUL/);
    expect(() => encodeCopyValue(Number.NaN)).toThrow(/NaN/);
  });

  it('round-trips any row of text and nulls through its decoder', () => {
    fc.assert(
      fc.property(fc.array(fc.option(pgText(), { nil: null }), { minLength: 1, maxLength: 8 }), (row) => {
        const line = encodeCopyRow(row);
        expect(line.endsWith('\n')).toBe(true);
        expect(line.slice(0, -1)).not.toMatch(/[\n\r]/);
        expect(line.split('\t')).toHaveLength(row.length);
        expect(decodeCopyRow(line)).toEqual(row);
      }),
      { numRuns: 500 },
    );
  });
});
