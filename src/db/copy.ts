import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import pgCopy from 'pg-copy-streams';

const CHUNK_BYTES = 64 * 1024;

/** Groups encoded lines into chunks of about 64 KiB, so the socket gets few, large writes. */
async function* chunked(lines: Iterable<string> | AsyncIterable<string>): AsyncGenerator<string> {
  let buf = '';
  for await (const line of lines) {
    buf += line;
    if (buf.length >= CHUNK_BYTES) {
      yield buf;
      buf = '';
    }
  }
  if (buf.length > 0) yield buf;
}

/**
 * pg-copy-streams holds the rows back until PostgreSQL answers the COPY with
 * CopyInResponse: a round trip per table. PostgreSQL reads its connection as one
 * stream, so the rows may follow the statement at once: once COPY starts it reads
 * them from what arrived, and should the statement fail first it skips them (a
 * frontend may still be sending CopyData after an error; the protocol says to ignore
 * it). So the stream is told at submit that the COPY has started, and the real
 * CopyInResponse changes nothing. The socket is corked from the statement until the
 * event loop's next turn: statement, rows and CopyDone leave in one write, one system
 * call and one wake-up of the backend.
 */
function sendRowsWithStatement(client: pg.PoolClient | pg.Client, stream: ReturnType<typeof pgCopy.from>): void {
  const socket = (client as unknown as { connection?: { stream?: Socket } }).connection?.stream;
  const copy = stream as unknown as { submit?: (connection: unknown) => void; handleCopyInResponse?: (connection: unknown) => void };
  const submit = copy.submit;
  const started = copy.handleCopyInResponse;
  if (!socket || typeof socket.cork !== 'function' || typeof submit !== 'function' || typeof started !== 'function') return;
  let copying = false;
  copy.handleCopyInResponse = function (connection: unknown) {
    if (copying) return;
    copying = true;
    started.call(this, connection);
  };
  copy.submit = function (connection: unknown) {
    socket.cork();
    setImmediate(() => socket.uncork());
    submit.call(this, connection);
    copy.handleCopyInResponse?.call(this, connection);
  };
}

/**
 * `COPY <table> (<columns>) FROM STDIN` on a client the caller holds (inside its
 * transaction). `table` and `columns` come from the service catalog, never from input.
 * Resolves with the number of rows PostgreSQL reports.
 */
export async function copyRows(
  client: pg.PoolClient | pg.Client,
  table: string,
  columns: readonly string[],
  lines: Iterable<string> | AsyncIterable<string>,
): Promise<number> {
  const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const sql = `COPY ${ident(table)} (${columns.map(ident).join(', ')}) FROM STDIN`;
  const stream = pgCopy.from(sql);
  sendRowsWithStatement(client, stream);
  client.query(stream);
  // Text already in memory goes in one write; a stream is regrouped into large chunks.
  await pipeline(Array.isArray(lines) ? Readable.from([(lines as string[]).join('')]) : Readable.from(chunked(lines)), stream);
  return Number(stream.rowCount ?? 0);
}
