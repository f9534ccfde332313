import { createHash, timingSafeEqual } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import { Router, type RequestHandler } from 'express';
import type { Config } from '../config/env.ts';
import type { Logger } from '../logger.ts';
import { ApiError } from './errors.ts';

/**
 * Bull Board at /admin/queues: every queue of QUEUE_NAMES (the flows' parents and
 * children link to each other), behind HTTP basic auth with ADMIN_USER and
 * ADMIN_PASSWORD. Without both, the board answers 401 to everyone.
 */
export const BOARD_PATH = '/admin/queues';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time check of `Authorization: Basic ...` against the configured pair. */
export function basicAuth(user: string | undefined, password: string | undefined, realm = 'demo-seed admin'): RequestHandler {
  const expected = user !== undefined && password !== undefined ? { user: digest(user), password: digest(password) } : undefined;
  return (req, res, next) => {
    res.setHeader('WWW-Authenticate', `Basic realm="${realm}", charset="UTF-8"`);
    if (!expected) {
      next(new ApiError(401, 'unauthorized', 'the admin board is locked: the server has no ADMIN_USER/ADMIN_PASSWORD'));
      return;
    }
    const header = req.get('Authorization') ?? '';
    const m = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header);
    const decoded = m ? Buffer.from(m[1] as string, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    // Both comparisons always run, on fixed-length digests, so timing tells nothing.
    const userOk = timingSafeEqual(digest(colon >= 0 ? decoded.slice(0, colon) : ''), expected.user);
    const passwordOk = timingSafeEqual(digest(colon >= 0 ? decoded.slice(colon + 1) : ''), expected.password);
    if (m && colon >= 0 && userOk && passwordOk) {
      res.removeHeader('WWW-Authenticate');
      next();
      return;
    }
    next(new ApiError(401, 'unauthorized', 'admin credentials required'));
  };
}

/** The board's router, auth included, to mount at BOARD_PATH. */
export function bullBoardRouter(cfg: Config, queues: Iterable<Queue>, log: Logger): Router {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: [...queues].map((q) => new BullMQAdapter(q)),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'demo-seed queues' } },
  });
  if (cfg.ADMIN_USER === undefined || cfg.ADMIN_PASSWORD === undefined) {
    log.warn(`Bull Board at ${BOARD_PATH} is locked (401 to everyone): set ADMIN_USER and ADMIN_PASSWORD to open it`);
  }
  const router = Router();
  router.use(basicAuth(cfg.ADMIN_USER, cfg.ADMIN_PASSWORD), adapter.getRouter() as RequestHandler);
  return router;
}
