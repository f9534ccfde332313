import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../shared/logger.ts';

/**
 * What the server answers when Node's HTTP parser gives up on a connection (the
 * server's `clientError` event): malformed HTTP, headers too large, or a request not
 * received within `requestTimeout`/`headersTimeout`. Node's own answer is a bare
 * `400 Bad Request`; this one is the same status, in the API's error shape.
 *
 * When Node had already handed the request to Express (the headers parsed, the body
 * not: a broken chunked body, a body too slow), the response Express holds never sends
 * anything, so its statusCode stays 200; the status written here is recorded on it
 * (`writtenStatus`), so that the request log and `demo_http_requests_total` count
 * what the client really got.
 */
const WRITTEN = Symbol('status written on the socket by the clientError handler');

type Marked = http.ServerResponse & { [WRITTEN]?: number };

/** The status the clientError handler wrote for this response, if it did. */
export function writtenStatus(res: http.ServerResponse): number | undefined {
  return (res as Marked)[WRITTEN];
}

const ANSWERS: Record<number, { reason: string; code: string; message: string }> = {
  400: { reason: 'Bad Request', code: 'bad_request', message: 'the request is not valid HTTP' },
  408: { reason: 'Request Timeout', code: 'request_timeout', message: 'the request was not received in time' },
  413: { reason: 'Payload Too Large', code: 'payload_too_large', message: 'a chunk extension is too large' },
  431: {
    reason: 'Request Header Fields Too Large',
    code: 'headers_too_large',
    message: 'the request headers are too large',
  },
};

function statusFor(code: string | undefined): number {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 408;
    case 'HPE_HEADER_OVERFLOW':
      return 431;
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return 413;
    default:
      return 400;
  }
}

export function rawAnswer(status: number): string {
  const a = ANSWERS[status] ?? ANSWERS[400]!;
  const body = JSON.stringify({ error: { code: a.code, message: a.message } });
  return `HTTP/1.1 ${status} ${a.reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * The `clientError` listener: answers as Node would (when nothing was sent yet), records
 * it, closes. `unparsed` hears of answers to bytes that never became a request (Express
 * never saw them, so the request log cannot count them).
 */
export function onClientError(
  log: Logger,
  unparsed?: (status: number) => void,
): (err: Error & { code?: string }, socket: Duplex) => void {
  return (err, socket) => {
    // A connection the client reset or already closed has nobody to answer.
    const gone = err.code === 'ECONNRESET' || err.code === 'EPIPE' || !socket.writable;
    const res = (socket as Duplex & { _httpMessage?: http.ServerResponse | null })._httpMessage ?? undefined;
    if (gone || res?.headersSent) {
      // Nobody to answer, or a response already under way: a second one would corrupt it.
      socket.destroy();
      return;
    }
    const status = statusFor(err.code);
    if (res) (res as Marked)[WRITTEN] = status;
    else unparsed?.(status);
    log.debug({ status, code: err.code }, 'HTTP request rejected by the parser');
    // The answer goes out, then the connection closes (a socket that cannot flush is cut).
    const cut = setTimeout(() => socket.destroy(), 1_000);
    cut.unref();
    socket.end(rawAnswer(status), () => {
      clearTimeout(cut);
      socket.destroy();
    });
  };
}
