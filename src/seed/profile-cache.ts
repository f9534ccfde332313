import { stat } from 'node:fs/promises';
import path from 'node:path';
import { SeedDataError } from './errors.ts';
import { loadProfile, type LoadedProfile } from './profile.ts';
import { passes, validateProfile, type ValidationReport } from '../seed-tools/validate/index.ts';

interface Entry {
  readonly version: string;
  /** When the manifest was last looked at (ms): at most once a second, not once per job. */
  checkedAt: number;
  readonly profile: Promise<LoadedProfile>;
  report?: Promise<ValidationReport>;
}

/**
 * Profiles parsed, and validated, once per process and profile version (the
 * manifest's mtime and size, looked at once a second at most): a profile written
 * anew is read anew. Failures are not cached.
 */
export class ProfileCache {
  private readonly entries = new Map<string, Entry>();

  /** The parsed profile, as workers load it. */
  async get(dataDir: string, name: string): Promise<LoadedProfile> {
    return (await this.entry(dataDir, name)).profile;
  }

  /** The parsed profile, after the validator passed it (errors fail; warnings do not). */
  async checked(dataDir: string, name: string): Promise<LoadedProfile> {
    const entry = await this.entry(dataDir, name);
    if (!entry.report) {
      entry.report = validateProfile(path.resolve(dataDir), name);
      entry.report.catch(() => this.forget(dataDir, name, entry));
    }
    const report = await entry.report;
    if (!passes(report)) throw new SeedDataError(report.errors);
    return entry.profile;
  }

  private async entry(dataDir: string, name: string): Promise<Entry> {
    const key = `${path.resolve(dataDir)}\0${name}`;
    const known = this.entries.get(key);
    if (known && Date.now() - known.checkedAt < 1000) return known;
    const st = await stat(path.resolve(dataDir, name, 'manifest.json')).catch(() => undefined);
    const version = st ? `${st.mtimeMs}:${st.size}` : 'missing';
    let entry = this.entries.get(key);
    if (entry && entry.version === version) entry.checkedAt = Date.now();
    else {
      const fresh: Entry = { version, checkedAt: Date.now(), profile: loadProfile(dataDir, name) };
      fresh.profile.catch(() => this.forget(dataDir, name, fresh));
      this.entries.set(key, fresh);
      entry = fresh;
    }
    return entry;
  }

  private forget(dataDir: string, name: string, entry: Entry): void {
    const key = `${path.resolve(dataDir)}\0${name}`;
    if (this.entries.get(key) === entry) this.entries.delete(key);
  }
}
