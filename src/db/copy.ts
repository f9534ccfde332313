import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import pgCopy from 'pg-copy-streams';

/*
 * This module reaches into the internals of pg (its Submittable protocol: `submit`,
 * `connection.stream`, the `handle*` callbacks) and of pg-copy-streams (`submit`,
 * `handleCopyInResponse`). Both are pinned to exact versions in package.json; an
 * upgrade is checked by test/integration/copy-roundtrip.test.ts (bytes, row order,
 * one socket write, what a failing table leaves) before the pins move.
 */
const CHUNK_BYTES = 64 * 1024;

/** `COPY <table> (<columns>) FROM STDIN`; tables and columns come from the service catalog, never from input. */
function copyStatement(table: string, columns: readonly string[]): string {
  const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
  return `COPY ${ident(table)} (${columns.map(ident).join(', ')}) FROM STDIN`;
}

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
  const copy = stream as unknown as {
    submit?: (connection: unknown) => void;
    handleCopyInResponse?: (connection: unknown) => void;
  };
  const submit = copy.submit;
  const started = copy.handleCopyInResponse;
  if (!socket || typeof socket.cork !== 'function' || typeof submit !== 'function' || typeof started !== 'function')
    return;
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
  const stream = pgCopy.from(copyStatement(table, columns));
  sendRowsWithStatement(client, stream);
  client.query(stream);
  // Regrouped into large chunks, so the socket gets few, large writes.
  await pipeline(Readable.from(chunked(lines)), stream);
  return Number(stream.rowCount ?? 0);
}

/** A table whose COPY text is already in memory. */
export interface CopyTable {
  readonly table: string;
  readonly columns: readonly string[];
  /** COPY text: whole lines, each ending in `\n` (UTF-8 when bytes). */
  readonly text: string | Buffer;
}

/** What PostgreSQL reported for one table of `copyTables`. */
export interface CopyTableResult {
  readonly rows: number;
  /** Milliseconds from the previous table's end (or the send) to this table's end. */
  readonly ms: number;
}

/** Protocol message types (PostgreSQL's message formats): CopyData 'd', CopyDone 'c'. */
const COPY_DATA = 0x64;
const COPY_DONE = Buffer.from([0x63, 0, 0, 0, 4]);

/**
 * COPYs several tables whose text is in memory in one round trip: one simple Query
 * holding `COPY … FROM STDIN` for each table, then each table's CopyData and
 * CopyDone, all in one socket write. PostgreSQL runs the statements of a Query in
 * order and reads each COPY's data from what follows on the connection. Should one
 * fail, it discards the rest of the Query and drops the copy data still to come, so
 * the error is the first failure and the caller's transaction is aborted; with no
 * transaction open, the Query's statements commit or roll back together.
 * `sql.first` and `sql.last`: statements (from the caller's code, never from input)
 * that run before and after the COPYs in the same Query, such as opening and
 * committing a transaction. Resolves with each table's row count, in order.
 */
export function copyTables(
  client: pg.PoolClient | pg.Client,
  tables: readonly CopyTable[],
  sql: { first?: string; last?: string } = {},
): Promise<CopyTableResult[]> {
  const text = [sql.first, ...tables.map((t) => copyStatement(t.table, t.columns)), sql.last]
    .filter(Boolean)
    .join('; ');
  if (text === '') return Promise.resolve([]);
  return new Promise((resolve, reject) => {
    // A Submittable: pg returns it, not a promise; it settles through resolve/reject.
    void client.query(new MultiCopy(text, tables, resolve, reject) as unknown as pg.QueryConfig);
  });
}

/** The pg Submittable behind copyTables: pg hands it the backend's replies to its Query. */
class MultiCopy {
  private readonly results: CopyTableResult[] = [];
  private last = 0;
  private failed = false;

  constructor(
    private readonly text: string,
    private readonly tables: readonly CopyTable[],
    private readonly resolve: (r: CopyTableResult[]) => void,
    private readonly reject: (e: Error) => void,
  ) {}

  submit(connection: { stream: Socket; query(text: string): void }): void {
    const socket = connection.stream;
    socket.cork();
    try {
      connection.query(this.text);
      for (const { text } of this.tables) {
        if (text.length > 0) {
          const header = Buffer.allocUnsafe(5);
          header[0] = COPY_DATA;
          header.writeUInt32BE(Buffer.byteLength(text) + 4, 1);
          socket.write(header);
          socket.write(text);
        }
        socket.write(COPY_DONE);
      }
    } finally {
      socket.uncork();
    }
    this.last = performance.now();
  }

  handleCommandComplete(msg: { text?: string }): void {
    const match = /^COPY (\d+)$/.exec(msg.text ?? '');
    if (!match) return; // one of sql.first's or sql.last's statements
    const now = performance.now();
    this.results.push({ rows: Number(match[1]), ms: now - this.last });
    this.last = now;
  }

  handleError(err: Error): void {
    this.failed = true;
    this.reject(err);
  }

  handleReadyForQuery(): void {
    if (this.failed) return;
    if (this.results.length !== this.tables.length) {
      this.reject(new Error(`COPY of ${this.tables.length} tables ended after ${this.results.length}`));
    } else {
      this.resolve(this.results);
    }
  }

  // Replies a COPY FROM never gets; pg calls them on any active query.
  handleCopyInResponse(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
  /** pg wraps it when `query_timeout` is set. */
  callback(): void {}
}
