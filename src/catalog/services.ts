/**
 * The 11 services of the bakery platform, their load phases and dependencies
 * (../shared/contract.md, "Services and load order"). Everything that names a
 * service, a database or a queue derives from this list.
 */
export const SERVICES = [
  'tenant',
  'inventory',
  'suppliers',
  'auth',
  'recipes',
  'production',
  'procurement',
  'orders',
  'sales',
  'orchestrator',
  'forecasting',
] as const;

export type ServiceName = (typeof SERVICES)[number];

export interface ServiceSpec {
  readonly name: ServiceName;
  readonly phase: 1 | 2 | 3 | 4;
  readonly dependsOn: readonly ServiceName[];
}

export const SERVICE_SPECS: Readonly<Record<ServiceName, ServiceSpec>> = {
  tenant: { name: 'tenant', phase: 1, dependsOn: [] },
  inventory: { name: 'inventory', phase: 1, dependsOn: [] },
  suppliers: { name: 'suppliers', phase: 1, dependsOn: [] },
  auth: { name: 'auth', phase: 2, dependsOn: ['tenant'] },
  recipes: { name: 'recipes', phase: 2, dependsOn: ['inventory'] },
  production: { name: 'production', phase: 3, dependsOn: ['inventory', 'recipes'] },
  procurement: { name: 'procurement', phase: 3, dependsOn: ['suppliers', 'inventory', 'auth'] },
  orders: { name: 'orders', phase: 3, dependsOn: ['inventory'] },
  sales: { name: 'sales', phase: 4, dependsOn: ['inventory'] },
  orchestrator: { name: 'orchestrator', phase: 4, dependsOn: ['production', 'procurement'] },
  forecasting: { name: 'forecasting', phase: 4, dependsOn: ['sales', 'inventory'] },
};

export const PHASES = [1, 2, 3, 4] as const;
export type Phase = (typeof PHASES)[number];

export function servicesOfPhase(phase: Phase): ServiceName[] {
  return SERVICES.filter((s) => SERVICE_SPECS[s].phase === phase);
}

/**
 * The depth of each service in the dependency graph. A wave holds every service whose
 * dependencies all lie in earlier waves: tenant, inventory, suppliers | auth, recipes,
 * orders, sales | production, procurement, forecasting | orchestrator. Loads do not
 * wait for a whole wave (a service starts once its own dependencies are done); the
 * waves order the cleanup and number the jobs for reporting. (Phases, as the
 * contract numbers them, group services for reporting; forecasting depends on sales
 * within phase 4.)
 */
export const WAVES: readonly (readonly ServiceName[])[] = (() => {
  const waves: ServiceName[][] = [];
  const done = new Set<ServiceName>();
  while (done.size < SERVICES.length) {
    const wave = SERVICES.filter((s) => !done.has(s) && dependenciesDone(s, done));
    if (wave.length === 0) throw new Error('the service dependencies have a cycle');
    wave.forEach((s) => done.add(s));
    waves.push(wave);
  }
  return waves;
})();

/** A service's wave, counted from 1: one more than the latest wave among its dependencies. */
export function waveOf(service: ServiceName): number {
  return WAVES.findIndex((wave) => wave.includes(service)) + 1;
}

/** Whether every service `service` depends on is among `done`. */
export function dependenciesDone(service: ServiceName, done: { has(s: ServiceName): boolean }): boolean {
  return SERVICE_SPECS[service].dependsOn.every((d) => done.has(d));
}

/** The services that depend on `service` directly. */
export function dependentsOf(service: ServiceName): ServiceName[] {
  return SERVICES.filter((s) => SERVICE_SPECS[s].dependsOn.includes(service));
}

/** Every service `service` depends on, directly or through others. */
export function transitiveDependencies(service: ServiceName): Set<ServiceName> {
  const seen = new Set<ServiceName>();
  const visit = (s: ServiceName): void => {
    for (const dep of SERVICE_SPECS[s].dependsOn) {
      if (!seen.has(dep)) {
        seen.add(dep);
        visit(dep);
      }
    }
  };
  visit(service);
  return seen;
}

export function isServiceName(value: string): value is ServiceName {
  return (SERVICES as readonly string[]).includes(value);
}

/** The service's own records (sessions) live in this database, beside the 11. */
export const DEMO_SESSION_DB = 'demo_session';
export type DatabaseKey = ServiceName | typeof DEMO_SESSION_DB;
export const DATABASE_KEYS: readonly DatabaseKey[] = [...SERVICES, DEMO_SESSION_DB];
