import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emailMailbox } from '../../src/shared/mailbox.ts';

/** Emails as the POST schema lets them through: ASCII local parts (with + and .), dotted domains. */
const localChar = fc.constantFrom(...'abcXYZ019_-.'.split(''));
const local = fc.string({ unit: localChar, minLength: 1, maxLength: 12 });
const tag = fc.string({ unit: fc.constantFrom(...'abcXYZ019_-.+'.split('')), maxLength: 8 });
const domain = fc
  .tuple(
    fc.string({ unit: fc.constantFrom(...'abcXYZ019-'.split('')), minLength: 1, maxLength: 8 }),
    fc.constantFrom('io', 'COM', 'example.org'),
  )
  .map(([d, tld]) => `${d}.${tld}`);

describe('emailMailbox', () => {
  it('lower-cases and removes the +tag of the local part', () => {
    expect(emailMailbox('A+1@X.io')).toBe('a@x.io');
    expect(emailMailbox('A@X.io')).toBe('a@x.io');
    expect(emailMailbox('capme+9@Example.COM')).toBe('capme@example.com');
    expect(emailMailbox('a+b+c@x.io')).toBe('a@x.io');
    expect(emailMailbox('first.last+news@x.io')).toBe('first.last@x.io');
    // A + in the domain is not a tag; a + opening the local part is kept (nothing would be left).
    expect(emailMailbox('a@x+y.io')).toBe('a@x+y.io');
    expect(emailMailbox('+a@x.io')).toBe('+a@x.io');
  });

  it('one mailbox for every +tag and letter case (property)', () => {
    fc.assert(
      fc.property(
        local.filter((l) => !l.includes('+')),
        tag,
        domain,
        (l, t, d) => {
          const plain = emailMailbox(`${l}@${d}`);
          expect(emailMailbox(`${l}+${t}@${d}`)).toBe(plain);
          expect(emailMailbox(`${l.toUpperCase()}+${t}@${d.toUpperCase()}`)).toBe(plain);
          expect(plain).toBe(`${l}@${d}`.toLowerCase());
        },
      ),
    );
  });

  it('is idempotent, lower case, and keeps the domain (property)', () => {
    fc.assert(
      fc.property(
        fc.tuple(local, tag, domain).map(([l, t, d]) => `${l}${t ? `+${t}` : ''}@${d}`),
        (email) => {
          const m = emailMailbox(email);
          expect(emailMailbox(m)).toBe(m);
          expect(m).toBe(m.toLowerCase());
          expect(m.slice(m.lastIndexOf('@'))).toBe(email.slice(email.lastIndexOf('@')).toLowerCase());
          const localPart = m.slice(0, m.lastIndexOf('@'));
          expect(localPart.length).toBeGreaterThan(0);
          expect(localPart.indexOf('+') <= 0).toBe(true);
        },
      ),
    );
  });

  it('tells different mailboxes apart (property)', () => {
    fc.assert(
      fc.property(
        local.filter((l) => !l.includes('+')),
        local.filter((l) => !l.includes('+')),
        domain,
        (a, b, d) => {
          fc.pre(a.toLowerCase() !== b.toLowerCase());
          expect(emailMailbox(`${a}@${d}`)).not.toBe(emailMailbox(`${b}@${d}`));
        },
      ),
    );
  });
});
