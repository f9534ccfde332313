import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/env.ts';

/** The board's variables: BOARD_READ_ONLY strictly true/false, the login limit's bounds. */
describe('configuration: the admin board', () => {
  it('is read-only by default, with 10 failed logins per 900 s', () => {
    const cfg = loadConfig({});
    expect(cfg.BOARD_READ_ONLY).toBe(true);
    expect(cfg.ADMIN_LOGIN_MAX_FAILURES).toBe(10);
    expect(cfg.ADMIN_LOGIN_WINDOW_SECONDS).toBe(900);
  });

  it('takes BOARD_READ_ONLY=true or false, and an empty value as unset', () => {
    expect(loadConfig({ BOARD_READ_ONLY: 'false' }).BOARD_READ_ONLY).toBe(false);
    expect(loadConfig({ BOARD_READ_ONLY: 'true' }).BOARD_READ_ONLY).toBe(true);
    expect(loadConfig({ BOARD_READ_ONLY: '' }).BOARD_READ_ONLY).toBe(true);
  });

  it.each(['abc', 'TRUE', 'False', '1', '0', 'yes', 'no', 'off'])(
    'BOARD_READ_ONLY=%s is a config error naming it',
    (value) => {
      let err: unknown;
      try {
        loadConfig({ BOARD_READ_ONLY: value });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toEqual(['BOARD_READ_ONLY: must be true or false']);
    },
  );

  it('reports bad login limits together with the rest', () => {
    let err: unknown;
    try {
      loadConfig({ BOARD_READ_ONLY: 'abc', ADMIN_LOGIN_MAX_FAILURES: '0', ADMIN_LOGIN_WINDOW_SECONDS: 'soon' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    for (const name of ['BOARD_READ_ONLY', 'ADMIN_LOGIN_MAX_FAILURES', 'ADMIN_LOGIN_WINDOW_SECONDS'])
      expect(problems).toContain(name);
  });
});
