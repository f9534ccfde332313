import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { idMapperFor, InvalidIdError, keptPart, mapIdAt } from '../../src/seed/ids.ts';
import { UUID_V4_RE } from '../../src/shared/uuid.ts';

describe('session id mapping', () => {
  it('is deterministic per session and different between sessions', () => {
    fc.assert(
      fc.property(fc.uuid({ version: 4 }), fc.uuid({ version: 4 }), fc.uuid({ version: 4 }), (base, s1, s2) => {
        fc.pre(s1 !== s2);
        expect(idMapperFor(s1)(base)).toBe(idMapperFor(s1)(base));
        expect(idMapperFor(s1)(base)).not.toBe(idMapperFor(s2)(base));
      }),
    );
  });

  it('keeps a v4 uuid a v4 uuid and never returns the base id', () => {
    fc.assert(
      fc.property(fc.uuid({ version: 4 }), fc.uuid({ version: 4 }), (base, session) => {
        const out = idMapperFor(session)(base);
        expect(out).toMatch(UUID_V4_RE);
        expect(out).not.toBe(base);
      }),
    );
  });

  it('is a bijection within a session on ids with distinct kept parts', () => {
    const map = idMapperFor(randomUUID());
    const bases = Array.from({ length: 20_000 }, () => randomUUID());
    expect(new Set(bases.map(keptPart)).size).toBe(bases.length);
    expect(new Set(bases.map(map)).size).toBe(bases.length);
    fc.assert(
      fc.property(fc.uuid({ version: 4 }), fc.uuid({ version: 4 }), (a, b) => {
        expect(map(a) === map(b)).toBe(keptPart(a) === keptPart(b));
      }),
    );
    // Why the validator requires distinct kept parts: ids that differ only in their first half meet.
    const a = randomUUID();
    const b = `${a.slice(0, 8).replace(/[0-9a-f]/g, (c) => (parseInt(c, 16) ^ 9).toString(16))}${a.slice(8)}`;
    expect(b).not.toBe(a);
    expect(map(b)).toBe(map(a));
  });

  it('gives all ids of a session one prefix (the first 16 hex digits but the version), and keeps the rest apart by XOR', () => {
    const prefix = (id: string) => id.slice(0, 14) + id.slice(15, 18);
    fc.assert(
      fc.property(
        fc.uuid({ version: 4 }),
        fc.uuid({ version: 4 }),
        fc.uuid({ version: 4 }),
        fc.uuid({ version: 4 }),
        (a, b, s1, s2) => {
          fc.pre(s1 !== s2);
          const m1 = idMapperFor(s1);
          const m2 = idMapperFor(s2);
          expect(prefix(m1(a))).toBe(prefix(m1(b)));
          expect(prefix(m1(a))).not.toBe(prefix(m2(a)));
          // The kept parts of two ids differ where the base ids' do: the same key is XOR-ed over both.
          const xor = (x: string, y: string) =>
            [...keptPart(x)]
              .map((c, i) => (parseInt(c, 16) ^ parseInt(keptPart(y)[i] as string, 16)).toString(16))
              .join('');
          expect(xor(m1(a), m1(b))).toBe(xor(a, b));
        },
      ),
    );
  });

  it('rewrites a uuid in a buffer in place exactly as the string mapper does', () => {
    fc.assert(
      fc.property(fc.uuid({ version: 4 }), fc.uuid({ version: 4 }), fc.boolean(), (base, session, upper) => {
        const map = idMapperFor(session);
        const input = upper ? base.toUpperCase() : base;
        const buf = Buffer.from(`"${input}"`, 'latin1');
        mapIdAt(map.key, buf, 1);
        expect(buf.toString('latin1')).toBe(`"${map(base)}"`);
      }),
    );
  });

  it('accepts upper-case input and refuses what is not a uuid', () => {
    const map = idMapperFor(randomUUID());
    const base = randomUUID();
    expect(map(base.toUpperCase())).toBe(map(base));
    for (const bad of [
      '',
      'not-a-uuid',
      `${base}x`,
      base.replace(/-/g, '_'),
      base.replace('a', 'g').replace(/^./, 'z'),
    ]) {
      expect(() => map(bad)).toThrow(InvalidIdError);
    }
  });
});
