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
 * When PostgreSQL answers CopyInResponse, pg-copy-streams writes what it buffered
 * meanwhile: a CopyData header, the data and (for text that was already complete)
 * CopyDone, each a write of its own. The socket is corked for that moment so they
 * leave in one write: one system call and one wake-up of the backend, not three.
 */
function coalesceCopyStart(client: pg.PoolClient | pg.Client, stream: ReturnType<typeof pgCopy.from>): void {
  const socket = (client as unknown as { connection?: { stream?: Socket } }).connection?.stream;
  const copy = stream as unknown as { handleCopyInResponse?: (connection: unknown) => void };
  const original = copy.handleCopyInResponse;
  if (!socket || typeof socket.cork !== 'function' || typeof original !== 'function') return;
  copy.handleCopyInResponse = function (connection: unknown) {
    socket.cork();
    try {
      original.call(this, connection);
    } finally {
      process.nextTick(() => socket.uncork());
    }
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
  const stream = client.query(pgCopy.from(sql));
  coalesceCopyStart(client, stream);
  // Text already in memory goes in one write; a stream is regrouped into large chunks.
  await pipeline(Array.isArray(lines) ? Readable.from([(lines as string[]).join('')]) : Readable.from(chunked(lines)), stream);
  return Number(stream.rowCount ?? 0);
}
