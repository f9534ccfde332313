import { pino, type Logger } from 'pino';

/**
 * pino JSON lines; children carry session_id, service, phase, job_id. Servers log to
 * stdout; one-shot commands log to stderr so their own output stays clean.
 */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', to: 'stdout' | 'stderr' = 'stdout'): Logger {
  return pino(
    {
      level,
      base: { app: 'demo-seed', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ fd: to === 'stdout' ? 1 : 2, sync: to === 'stderr' }),
  );
}

export type { Logger };
