import { sessionEmail } from '../load/identities.ts';
import { idMapperFor } from '../seed/ids.ts';
import type { LoadedProfile, SeedRecord } from '../seed/profile.ts';
import { lineBatches } from '../seed/ndjson.ts';
import type { AccessUser } from './access.ts';

/**
 * The session's main user as its demo token names it: the profile's owner
 * (`manifest.owner`), with the new id and the per-session email its auth.users row
 * is loaded with (idMapperFor, sessionEmail), and its role.
 */
export class ProfileOwnerError extends Error {
  override name = 'ProfileOwnerError';
}

const USERS = 'auth.users';
/** The owner's seed email per parsed profile (a profile read anew is a new object). */
const seedEmails = new WeakMap<LoadedProfile, Promise<string>>();

async function findSeedEmail(profile: LoadedProfile, userId: string): Promise<string> {
  const match = (r: SeedRecord) => typeof r.id === 'string' && r.id.toLowerCase() === userId.toLowerCase();
  for (const seg of profile.segments.get(USERS) ?? []) {
    if (seg.kind === 'json') {
      const r = seg.records.find(match);
      if (r) return emailOf(profile, r);
      continue;
    }
    for await (const batch of lineBatches(seg.path)) {
      for (let i = 0; i < batch.lines.length; i++) {
        const line = batch.lines[i] as string;
        if (batch.first + i < seg.firstLine || line.trim() === '') continue;
        const r = JSON.parse(line) as SeedRecord;
        if (match(r)) return emailOf(profile, r);
      }
    }
  }
  throw new ProfileOwnerError(`profile ${profile.name}: its owner ${userId} is not a row of ${USERS}`);
}

function emailOf(profile: LoadedProfile, r: SeedRecord): string {
  if (typeof r.email !== 'string' || r.email === '')
    throw new ProfileOwnerError(`profile ${profile.name}: its owner ${String(r.id)} has no email`);
  return r.email;
}

/** Undefined for a profile that names no owner (the validator warns of it): its sessions get no token. */
export async function mainUserOf(
  profile: LoadedProfile,
  sessionId: string,
  emailDomain: string,
): Promise<AccessUser | undefined> {
  const owner = profile.manifest.owner;
  if (!owner) return undefined;
  let seed = seedEmails.get(profile);
  if (!seed) {
    seed = findSeedEmail(profile, owner.user_id);
    seedEmails.set(profile, seed);
    seed.catch(() => seedEmails.delete(profile));
  }
  return {
    id: idMapperFor(sessionId)(owner.user_id),
    email: sessionEmail(await seed, sessionId, emailDomain),
    role: owner.role,
  };
}
