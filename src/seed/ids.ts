import { createHash } from 'node:crypto';

/**
 * New ids for a session, from a 122-bit key derived from the session id. A new id is
 * - the session's prefix: its first 16 hex digits, but for the version digit, are the
 *   key's (60 bits, the same for every id of the session);
 * - the base id's version digit, and its last 16 hex digits XOR-ed with the key's
 *   (keeping the variant's two bits).
 * So the mapping is
 * - deterministic: a retried or duplicated job computes the same ids, so primary keys
 *   and the load marker make a second copy impossible;
 * - a bijection per session on base ids that differ in that kept part, which the
 *   seed-data validator requires of a profile (`keptPart`);
 * - shape-preserving: the version (4) and variant bits are left as they are, so a v4 id
 *   maps to a v4 id;
 * - local: a session's ids lie together in every uuid index (primary keys, references),
 *   so its inserts fill a few B-tree pages where random ids touch a page each;
 * - cheap (32 table look-ups), which matters for million-row loads.
 * Two sessions' ids can collide only if their prefixes are equal, a chance of about
 * m²/2⁶¹ for m sessions, and then only if two kept parts collide as well.
 */
const HEX = '0123456789abcdef';
const HEX_CODES = Uint8Array.from(HEX, (c) => c.charCodeAt(0));
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  NIBBLE[HEX.charCodeAt(i)] = i;
  NIBBLE[HEX.toUpperCase().charCodeAt(i)] = i;
}

export class InvalidIdError extends Error {
  override name = 'InvalidIdError';
}

/**
 * Which bits of each hex digit of a base id the new id keeps: none in the session's
 * prefix, all in the version digit and the last 16 digits (the key's digit is XOR-ed
 * over what is kept).
 */
const KEEP = Uint8Array.from({ length: 32 }, (_, k) => (k < 16 && k !== 12 ? 0 : 15));

/**
 * The part of a base id that its new id keeps, lower-cased: the version digit and the
 * last 16 hex digits. Two ids of one profile must differ in it, or they would get the
 * same new id.
 */
export function keptPart(id: string): string {
  return (id.slice(14, 15) + id.slice(19)).toLowerCase();
}

/** Base id → the session's id; `key` is the session's key (sessionKeyNibbles), for rewriting ids in place. */
export interface IdMapper {
  (baseId: string): string;
  readonly key: Uint8Array;
}

/** Where a uuid's 32 hex digits are: all but the four dashes. */
const HEX_AT = Uint8Array.from({ length: 36 }, (_, i) => i).filter((i) => i !== 8 && i !== 13 && i !== 18 && i !== 23);

/**
 * Rewrites the uuid at `buf[at…at+36)` in place to its session id, as the mapper of
 * idMapperFor does for a string (lower-case hex out, either case in). The caller has
 * checked that a uuid is there.
 */
export function mapIdAt(key: Uint8Array, buf: Uint8Array, at: number): void {
  for (let k = 0; k < 32; k++) {
    const i = at + (HEX_AT[k] as number);
    buf[i] = HEX_CODES[((NIBBLE[buf[i] as number] as number) & (KEEP[k] as number)) ^ (key[k] as number)] as number;
  }
}

/** The 32 key nibbles of a session, with the version and variant positions cleared. */
export function sessionKeyNibbles(sessionId: string): Uint8Array {
  const digest = createHash('sha256').update(`demo-seed/session-key/${sessionId.toLowerCase()}`).digest();
  const nibbles = new Uint8Array(32);
  for (let i = 0; i < 16; i++) {
    nibbles[2 * i] = (digest[i] as number) >> 4;
    nibbles[2 * i + 1] = (digest[i] as number) & 15;
  }
  nibbles[12] = 0; // version nibble
  nibbles[16] = (nibbles[16] as number) & 3; // keep the variant's two high bits
  return nibbles;
}

export function idMapperFor(sessionId: string): IdMapper {
  const key = sessionKeyNibbles(sessionId);
  // The new id is written into a scratch buffer rather than built as a string, for speed.
  const out = Buffer.alloc(36);
  const mapId = (baseId: string): string => {
    if (baseId.length !== 36) throw new InvalidIdError(`not a uuid: ${JSON.stringify(baseId)}`);
    let k = 0;
    for (let i = 0; i < 36; i++) {
      const code = baseId.charCodeAt(i);
      if (i === 8 || i === 13 || i === 18 || i === 23) {
        if (code !== 45) throw new InvalidIdError(`not a uuid: ${JSON.stringify(baseId)}`);
        out[i] = 45;
        continue;
      }
      const v = code < 128 ? (NIBBLE[code] as number) : -1;
      if (v < 0) throw new InvalidIdError(`not a uuid: ${JSON.stringify(baseId)}`);
      out[i] = HEX_CODES[(v & (KEEP[k] as number)) ^ (key[k] as number)] as number;
      k++;
    }
    return out.toString('latin1', 0, 36);
  };
  return Object.assign(mapId, { key });
}
