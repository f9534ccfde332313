// Loaded into the fault suite's worker processes with `--import` (NODE_OPTIONS); not part
// of the product. While the file FAULT_PAUSE_COPY_FILE exists and holds "<table> <ms>",
// a COPY into that table is handed to pg only after <ms>: its load transaction then sits
// idle between statements for that long, the state a scenario needs to terminate it in.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const flag = process.env.FAULT_PAUSE_COPY_FILE;
if (flag) {
  // The project's own pg, the module instance the worker's imports get from the cache.
  const pg = createRequire(path.join(process.cwd(), 'package.json'))('pg');
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (config, ...rest) {
    if (config && typeof config.submit === 'function' && typeof config.text === 'string' && existsSync(flag)) {
      const [table, ms] = readFileSync(flag, 'utf8').trim().split(' ');
      if (config.text.startsWith(`COPY "${table}"`)) {
        setTimeout(() => query.call(this, config, ...rest), Number(ms));
        return config;
      }
    }
    return query.call(this, config, ...rest);
  };
}
