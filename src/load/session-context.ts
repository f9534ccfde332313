import { SERVICES, type ServiceName } from '../catalog/services.ts';
import { TABLES, type EntityName } from '../catalog/tables.ts';
import { dateShifter, daysBetween, utcDay } from '../seed/dates.ts';
import { idMapperFor } from '../seed/ids.ts';
import type { LoadedProfile } from '../seed/profile.ts';
import type { TransformContext } from './transform.ts';

/** Entities some column references: their ids are collected while loading. */
export const REFERENCED_ENTITIES: ReadonlySet<EntityName> = new Set(
  SERVICES.flatMap((s) => TABLES[s].flatMap((t) => Object.values(t.columns))).flatMap((c) =>
    c.kind === 'ref' ? [c.entity] : [],
  ),
);

/** The session's tenant ids, in the manifest's order (main tenant first). */
export function sessionTenantIds(profile: LoadedProfile, sessionId: string): string[] {
  const mapId = idMapperFor(sessionId);
  return profile.manifest.tenants.map((t) => mapId(t.id));
}

/** The email domain of seeded users when none is configured (DEMO_EMAIL_DOMAIN's default). */
export const DEFAULT_EMAIL_DOMAIN = 'demo.invalid';

/** What a session's request and the configuration add to its load. */
export interface SessionLoadOptions {
  /** DEMO_EMAIL_DOMAIN: the domain of every seeded email. */
  readonly emailDomain?: string;
  /** The request's tier, written to the main tenant's row (tenant.tenants.subscription_tier); none: the profile's. */
  readonly subscriptionTier?: string;
}

/**
 * Builds the transform context of one service job: local maps for the service's
 * own entities (filled as its tables load, in order) and `remote` maps read from Redis;
 * the session's identities (emails under `options.emailDomain`, slugs, codes) and its
 * main tenant's tier.
 */
export function transformContext(
  profile: LoadedProfile,
  sessionId: string,
  createdAt: string,
  service: ServiceName,
  remote: ReadonlyMap<EntityName, ReadonlyMap<string, string>>,
  options: SessionLoadOptions = {},
): { ctx: TransformContext; local: Map<EntityName, Map<string, string>> } {
  const mapId = idMapperFor(sessionId);
  const tenants = new Map(profile.manifest.tenants.map((t) => [t.id, mapId(t.id)]));
  const shift = dateShifter(daysBetween(profile.manifest.reference_date, utcDay(new Date(createdAt))));
  const local = new Map<EntityName, Map<string, string>>();
  for (const t of TABLES[service]) {
    const e: EntityName = `${service}.${t.name}`;
    if (REFERENCED_ENTITIES.has(e)) local.set(e, new Map());
  }
  const main = profile.manifest.tenants[0]?.id;
  const overrides =
    service === 'tenant' && options.subscriptionTier !== undefined && main !== undefined
      ? new Map([['tenant.tenants' as EntityName, new Map([[main, { subscription_tier: options.subscriptionTier }]])]])
      : undefined;
  const ctx: TransformContext = {
    mapId,
    tenants,
    shift,
    resolve: (entity, baseId) => (local.get(entity) ?? remote.get(entity))?.get(baseId),
    identities: { sessionId, emailDomain: options.emailDomain ?? DEFAULT_EMAIL_DOMAIN },
    ...(overrides && { overrides }),
  };
  return { ctx, local };
}
