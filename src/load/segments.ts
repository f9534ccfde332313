import { setImmediate } from 'node:timers/promises';
import type { TableSpec } from '../catalog/tables.ts';
import { segmentBatches, type LoadedProfile, type Segment } from '../seed/profile.ts';
import { fillTemplate, profileTemplate } from './template.ts';
import { compileTable, type RecordEncoder, type TransformContext } from './transform.ts';

/**
 * A table's COPY text for one session, from its segments (the profile's JSON records
 * in memory, or NDJSON files read as they go): in one piece for a table of few records
 * in memory, else as a stream of batches that leaves the event loop its turns.
 */

/** Records of a JSON profile encoded between two turns of the event loop. */
export const JSON_BATCH = 2_000;

type JsonSegment = Extract<Segment, { kind: 'json' }>;

/**
 * The COPY text of a table whose records are all in memory and at most JSON_BATCH:
 * the profile's text with this session's values written in, or, should a value not
 * fit (a reference missing from the ID maps), the records encoded one by one, which
 * names the record. Undefined for a table that is streamed (streamedText).
 * `collect` receives the table's new ids when the table is referenced elsewhere.
 */
export function inMemoryText(
  profile: LoadedProfile,
  spec: TableSpec,
  segments: readonly Segment[],
  ctx: TransformContext,
  collect: Map<string, string> | undefined,
): { text: string | Buffer; records: number } | undefined {
  const few = fewInMemory(segments);
  if (!few) return undefined;
  // Rows with values of their own (ctx.overrides) are not the template's.
  const template = ctx.overrides?.has(`${spec.service}.${spec.name}`)
    ? undefined
    : profileTemplate(profile, spec, () => few.segments.flatMap((seg) => seg.records));
  const text =
    (template && fillTemplate(template, ctx, collect)) ?? encodeRecords(few.segments, compileTable(spec, ctx, collect));
  return { text, records: few.records };
}

/** The COPY text of a table that inMemoryText does not take, in batches (encodeBatches). */
export function streamedText(
  segments: readonly Segment[],
  spec: TableSpec,
  ctx: TransformContext,
  collect: Map<string, string> | undefined,
): AsyncGenerator<string> {
  return encodeBatches(segments, compileTable(spec, ctx, collect));
}

/** The COPY text of records in memory, in one string. */
function encodeRecords(segments: readonly JsonSegment[], encode: RecordEncoder): string {
  let text = '';
  for (const seg of segments)
    for (let i = 0; i < seg.records.length; i++) text += encode(seg.records[i] as Record<string, unknown>, seg.file, i);
  return text;
}

/**
 * A table encoded in one piece: all its segments in memory (JSON, not NDJSON read as
 * it goes) and at most JSON_BATCH records in all; undefined for one that is streamed.
 */
function fewInMemory(segments: readonly Segment[]): { segments: readonly JsonSegment[]; records: number } | undefined {
  if (!segments.every((seg): seg is JsonSegment => seg.kind === 'json')) return undefined;
  const records = segments.reduce((n, seg) => n + seg.records.length, 0);
  return records <= JSON_BATCH ? { segments, records } : undefined;
}

/**
 * The longest stretch of encoding between two turns of the event loop: a batch that
 * takes longer (big records, a busy machine) is encoded in slices, a turn between
 * them, so a worker's lock renewals keep their time. The batches stay the same.
 */
export const ENCODE_SLICE_MS = 8;
/** Records encoded between two looks at the clock. */
const SLICE_CHECK_EVERY = 128;

/**
 * The COPY text of a table's segments as batches of at most JSON_BATCH records.
 * Between the batches of records in memory the event loop gets a turn (lock renewals
 * and the other jobs of the process go on while a big table is encoded); an NDJSON
 * file gives one at each read; and a batch of either that takes longer than
 * ENCODE_SLICE_MS gives one every as long.
 */
export async function* encodeBatches(segments: readonly Segment[], encode: RecordEncoder): AsyncGenerator<string> {
  let sliceStart = performance.now();
  for (const seg of segments) {
    for await (const { first, records } of segmentBatches(seg)) {
      for (let start = 0; start < records.length; start += JSON_BATCH) {
        const end = Math.min(records.length, start + JSON_BATCH);
        let text = '';
        for (let i = start; i < end; i++) {
          text += encode(records[i] as Record<string, unknown>, seg.file, first + i);
          if (
            (i - start) % SLICE_CHECK_EVERY === SLICE_CHECK_EVERY - 1 &&
            performance.now() - sliceStart >= ENCODE_SLICE_MS
          ) {
            await setImmediate();
            sliceStart = performance.now();
          }
        }
        yield text;
        if (seg.kind === 'json') await setImmediate();
        sliceStart = performance.now();
      }
    }
  }
}
