import { createReadStream } from 'node:fs';

/**
 * The lines of a text file in batches, one batch per chunk read, `first` being the
 * 1-based number of the batch's first line. Lines lose their `\n` (and a `\r` before
 * it); a last line without one is given too. Splitting by hand, a million-line file
 * costs one await per chunk, not one per line as readline's iterator does, and each
 * batch dies young.
 */
export async function* lineBatches(
  file: string,
  chunkBytes = 64 * 1024,
): AsyncGenerator<{ first: number; lines: string[] }> {
  let next = 1;
  let rest = '';
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: chunkBytes })) {
    const text = rest + (chunk as string);
    const lines: string[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl >= 0; nl = text.indexOf('\n', start)) {
      lines.push(text.slice(start, nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl));
      start = nl + 1;
    }
    rest = text.slice(start);
    if (lines.length > 0) {
      yield { first: next, lines };
      next += lines.length;
    }
  }
  if (rest.length > 0) yield { first: next, lines: [rest.endsWith('\r') ? rest.slice(0, -1) : rest] };
}
