import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Router, type RequestHandler } from 'express';
import { SERVICES } from '../../catalog/services.ts';
import { packageRoot } from '../../shared/paths.ts';
import { methodNotAllowed } from '../errors.ts';

/**
 * GET /demo: the page a prospect enters a demo through (the marketing site links to
 * `/demo?type=professional`, or `enterprise`; `&tier=` passes a subscription tier). Plain
 * HTML, CSS and a script, each its own file of src/api/demo-page/ (the image copies the
 * folder, see Dockerfile) and its own route, so the API's CSP (helmet's default,
 * `script-src 'self'`) stands as it is: nothing inline, nothing from another origin. The
 * page calls the API on its own origin: POST, the event stream, GET when the stream is
 * not available.
 */
export const DEMO_PAGE_PATH = '/demo';
export const DEMO_PAGE_DIR = path.join(packageRoot(), 'src', 'api', 'demo-page');
/** The type a page without `?type=` starts, when the profile is installed. */
export const DEFAULT_DEMO_TYPE = 'professional';

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** The page with the demo types on offer and the services, in load order, written into it (read once, at start). */
export function demoPageHtml(profiles: readonly string[], dir = DEMO_PAGE_DIR): string {
  const fallback = profiles.includes(DEFAULT_DEMO_TYPE) ? DEFAULT_DEMO_TYPE : (profiles[0] ?? DEFAULT_DEMO_TYPE);
  return readFileSync(path.join(dir, 'index.html'), 'utf8')
    .replace('{{PROFILES}}', escapeHtml(profiles.join(',')))
    .replace('{{SERVICES}}', escapeHtml(SERVICES.join(',')))
    .replace('{{DEFAULT_PROFILE}}', escapeHtml(fallback));
}

export function demoPageRoutes(profiles: readonly string[], dir = DEMO_PAGE_DIR): Router {
  const html = demoPageHtml(profiles, dir);
  const script = readFileSync(path.join(dir, 'demo.js'), 'utf8');
  const style = readFileSync(path.join(dir, 'demo.css'), 'utf8');
  // The files change only with a deploy, which an unversioned URL cannot tell: revalidate every time.
  const serve =
    (type: string, body: string): RequestHandler =>
    (_req, res) => {
      res.set('Cache-Control', 'no-cache').type(type).send(body);
    };
  const router = Router();
  const only = methodNotAllowed(['GET', 'HEAD']);
  router.route(DEMO_PAGE_PATH).get(serve('html', html)).all(only);
  router.route(`${DEMO_PAGE_PATH}/demo.js`).get(serve('js', script)).all(only);
  router.route(`${DEMO_PAGE_PATH}/demo.css`).get(serve('css', style)).all(only);
  return router;
}
