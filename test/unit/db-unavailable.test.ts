import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../src/db/unavailable.ts';
import { toApiError } from '../../src/api/errors.ts';

/** A pg DatabaseError as pg-protocol builds it (the fields that matter here). */
function pgError(code: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { name: 'error', code, severity: 'FATAL', ...extra });
}

function netError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, errno: -111, syscall: 'connect' });
}

describe('isDatabaseUnavailable', () => {
  it.each([
    ['ECONNREFUSED', netError('ECONNREFUSED')],
    ['ECONNRESET', netError('ECONNRESET')],
    ['ETIMEDOUT', netError('ETIMEDOUT')],
    ['ENOTFOUND', netError('ENOTFOUND')],
    ['EHOSTUNREACH', netError('EHOSTUNREACH')],
    ['pg: Connection terminated unexpectedly', new Error('Connection terminated unexpectedly')],
    [
      'pg: Connection terminated due to connection timeout',
      new Error('Connection terminated due to connection timeout'),
    ],
    ['pg-pool: connect timeout', new Error('timeout exceeded when trying to connect')],
    ['pg: client not queryable', new Error('Client has encountered a connection error and is not queryable')],
    ['57P01 admin_shutdown', pgError('57P01', 'terminating connection due to administrator command')],
    ['57P02 crash_shutdown', pgError('57P02', 'terminating connection because of crash of another server process')],
    ['57P03 cannot_connect_now', pgError('57P03', 'the database system is starting up')],
    ['53300 too_many_connections', pgError('53300', 'sorry, too many clients already')],
    ['08006 connection_failure', pgError('08006', 'connection failure')],
    ['08001 unable to connect', pgError('08001', 'could not connect')],
    ['08P01 protocol violation', pgError('08P01', 'invalid startup packet layout')],
    ['3D000 no such database', pgError('3D000', 'database "x" does not exist')],
    [
      '55000 not accepting connections (as PostgreSQL 15 sends it)',
      pgError('55000', 'database "bakery_demo_session" is not currently accepting connections', {
        file: 'postinit.c',
        routine: 'CheckMyDatabase',
      }),
    ],
    [
      '55000 from postinit.c, message in another language',
      pgError('55000', 'la base de données « x » n’accepte plus les connexions', { file: 'postinit.c' }),
    ],
    [
      'an AggregateError of refused addresses (happy eyeballs)',
      Object.assign(new AggregateError([netError('ECONNREFUSED'), netError('ECONNREFUSED')], ''), {}),
    ],
    ['a wrapped cause', new Error('could not read the session', { cause: pgError('57P01', 'terminating connection') })],
  ])('%s: yes', (_what, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  it.each([
    [
      '55000 that is a query error (currval)',
      pgError('55000', 'currval of sequence "s" is not yet defined in this session', {
        severity: 'ERROR',
        file: 'sequence.c',
      }),
    ],
    ['23505 unique violation', pgError('23505', 'duplicate key value violates unique constraint "x"')],
    ['42P01 undefined table', pgError('42P01', 'relation "demo_sessions" does not exist')],
    ['22P02 invalid text', pgError('22P02', 'invalid input syntax for type uuid: "x"')],
    ['an SQLSTATE error whose text talks of connections', pgError('P0001', 'Connection terminated by the application')],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['a string', 'ECONNREFUSED'],
    ['undefined', undefined],
    ['null', null],
    ['an ioredis error', new Error('Connection is closed.')],
  ])('%s: no', (_what, err) => {
    expect(isDatabaseUnavailable(err)).toBe(false);
  });
});

describe('toApiError of a database outage', () => {
  it('is 503 database_unavailable, with a message that names no internals', () => {
    const api = toApiError(
      pgError('55000', 'database "bakery_demo_session" is not currently accepting connections', { file: 'postinit.c' }),
    );
    expect(api.status).toBe(503);
    expect(api.code).toBe('database_unavailable');
    expect(api.message).toBe('the session database is not available; try again shortly');
  });

  it('leaves other errors 500', () => {
    const api = toApiError(pgError('42P01', 'relation "demo_sessions" does not exist', { severity: 'ERROR' }));
    expect(api.status).toBe(500);
    expect(api.code).toBe('internal_error');
    expect(api.message).not.toMatch(/demo_sessions/);
  });
});
