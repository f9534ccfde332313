import { existsSync } from 'node:fs';

/**
 * Debian's Chromium for the browser tests (installed by .ci/prepare), and the flags it is
 * launched with here: headless, and none of the background networking this machine's
 * closed network refuses.
 */
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
