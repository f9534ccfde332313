/**
 * PostgreSQL COPY text format: columns separated by a tab, rows ended by a newline,
 * `\N` for NULL, and backslash, tab, newline and carriage return escaped.
 * (https://www.postgresql.org/docs/current/sql-copy.html, "Text Format")
 */
export const COPY_NULL = '\\N';

const SPECIAL = /[\\\t\n\r\0]/;
const SPECIAL_GLOBAL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

export class CopyEncodingError extends Error {
  override name = 'CopyEncodingError';
}

/** Escapes one text value. PostgreSQL text cannot hold NUL, so it is refused. */
export function escapeCopyText(value: string): string {
  if (!SPECIAL.test(value)) return value;
  if (value.includes('\0')) throw new CopyEncodingError('text values cannot contain the NUL character (\\u0000)');
  return value.replace(SPECIAL_GLOBAL, (c) => ESCAPES[c] as string);
}

export type CopyValue = string | number | bigint | boolean | null | undefined | object;

/** Encodes one value of any JSON-ish type as a COPY text field. */
export function encodeCopyValue(value: CopyValue): string {
  if (value === null || value === undefined) return COPY_NULL;
  switch (typeof value) {
    case 'string':
      return escapeCopyText(value);
    case 'number':
      if (!Number.isFinite(value)) throw new CopyEncodingError(`number ${value} cannot be stored`);
      return String(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 't' : 'f';
    default:
      return escapeCopyText(JSON.stringify(value));
  }
}
