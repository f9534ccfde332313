import type { Logger } from '../shared/logger.ts';
import { tracing } from '../shared/telemetry.ts';

/** On SIGTERM or SIGINT: run `stop` once (it closes servers and workers within their bounds), then exit 0. */
export function onShutdown(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    stop()
      // With tracing on, the spans still buffered are sent before the process exits.
      .then(() => tracing()?.flush())
      .then(() => {
        log.info('stopped');
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error({ err: (err as Error).message }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}
