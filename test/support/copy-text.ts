import { COPY_NULL, encodeCopyValue, type CopyValue } from '../../src/load/copy-encoding.ts';

/** COPY text rows for tests: the service encodes records through its templates and compileTable instead. */

/** One row (values in column order) as a COPY text line, newline included. */
export function encodeCopyRow(values: readonly CopyValue[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) line += '\t';
    line += encodeCopyValue(values[i]);
  }
  return line + '\n';
}

/** Reads a COPY text line back into fields (null for `\N`): the inverse of encodeCopyRow. */
export function decodeCopyRow(line: string): (string | null)[] {
  const body = line.endsWith('\n') ? line.slice(0, -1) : line;
  return body.split('\t').map((field) => {
    if (field === COPY_NULL) return null;
    return field.replace(/\\(.)/g, (_, c: string) => {
      switch (c) {
        case 't':
          return '\t';
        case 'n':
          return '\n';
        case 'r':
          return '\r';
        default:
          return c;
      }
    });
  });
}
