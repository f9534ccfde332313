import { pino, type Logger } from 'pino';
import { activeTraceId, tracing } from './telemetry.ts';

/** With tracing on: the active span's trace id on each line (none when tracing is off). */
const traceMixin = () => {
  const id = activeTraceId();
  return id ? { trace_id: id } : {};
};

/**
 * pino JSON lines; children carry session_id, service, phase, job_id. Servers log to
 * stdout; one-shot commands log to stderr so their own output stays clean.
 */
export function createLogger(
  level: string = process.env.LOG_LEVEL ?? 'info',
  to: 'stdout' | 'stderr' = 'stdout',
): Logger {
  return pino(
    {
      level,
      base: { app: 'demo-seed', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      ...(tracing() ? { mixin: traceMixin } : {}),
    },
    // Servers buffer up to 4 KiB for at most 200 ms: a write (and a wake-up of whoever
    // reads the pipe) per few dozen lines instead of per line. pino flushes the rest on
    // exit; a SIGKILL loses at most those 200 ms.
    to === 'stdout'
      ? pino.destination({ fd: 1, sync: false, minLength: 4096, periodicFlush: 200 })
      : pino.destination({ fd: 2, sync: true }),
  );
}

export type { Logger };
