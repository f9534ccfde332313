import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { idMapperFor, InvalidIdError, UUID_V4_RE } from '../../src/seed/ids.ts';

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

  it('is a bijection within a session: distinct ids stay distinct', () => {
    const map = idMapperFor(randomUUID());
    const bases = Array.from({ length: 20_000 }, () => randomUUID());
    expect(new Set(bases.map(map)).size).toBe(new Set(bases).size);
  });

  it('accepts upper-case input and refuses what is not a uuid', () => {
    const map = idMapperFor(randomUUID());
    const base = randomUUID();
    expect(map(base.toUpperCase())).toBe(map(base));
    for (const bad of ['', 'not-a-uuid', `${base}x`, base.replace(/-/g, '_'), base.replace('a', 'g').replace(/^./, 'z')]) {
      expect(() => map(bad)).toThrow(InvalidIdError);
    }
  });
});
