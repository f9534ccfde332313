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

/**
 * Builds the transform context of one service job: local maps for the service's
 * own entities (filled as its tables load, in order) and `remote` maps read from Redis.
 */
export function transformContext(
  profile: LoadedProfile,
  sessionId: string,
  createdAt: string,
  service: ServiceName,
  remote: ReadonlyMap<EntityName, ReadonlyMap<string, string>>,
): { ctx: TransformContext; local: Map<EntityName, Map<string, string>> } {
  const mapId = idMapperFor(sessionId);
  const tenants = new Map(profile.manifest.tenants.map((t) => [t.id, mapId(t.id)]));
  const shift = dateShifter(daysBetween(profile.manifest.reference_date, utcDay(new Date(createdAt))));
  const local = new Map<EntityName, Map<string, string>>();
  for (const t of TABLES[service]) {
    const e: EntityName = `${service}.${t.name}`;
    if (REFERENCED_ENTITIES.has(e)) local.set(e, new Map());
  }
  const ctx: TransformContext = {
    mapId,
    tenants,
    shift,
    resolve: (entity, baseId) => (local.get(entity) ?? remote.get(entity))?.get(baseId),
  };
  return { ctx, local };
}
