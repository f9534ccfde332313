import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { PROFILE_NAME_RE } from '../seed/profile.ts';

/**
 * The demo account types on offer: the folders of the seed-data root that hold a
 * manifest.json (professional and enterprise in this repository). Read once at start.
 */
export function listProfiles(dataDir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dataDir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return [];
  }
  return entries.filter((name) => PROFILE_NAME_RE.test(name) && existsSync(path.join(dataDir, name, 'manifest.json'))).sort();
}
