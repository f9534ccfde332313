import type { Rng } from './random.ts';
import { round, type TableSet } from './records.ts';
import { day, moment, timestamp } from './time.ts';
import { expectedDemand } from './demand.ts';
import { shortestRoute } from './routes.ts';
import type { Shop } from './commerce.ts';
import type { Location, Product } from './master.ts';
import type { Counter } from './operations.ts';

/**
 * Daily delivery routes from the central production site to the outlets. The
 * outlets are split into routes of at most STOPS_PER_ROUTE stops (by bearing
 * from the origin); each route visits its stops in the order that makes it
 * shortest, and ships every product each outlet is expected to sell that day.
 */
export const STOPS_PER_ROUTE = 6;
const DEPARTURE = { hours: 4, minutes: 30 };
const AVERAGE_SPEED_KMH = 25;
const UNLOADING_MINUTES = 12;

const VEHICLES = [
  'Furgoneta isoterma 1 (4821 LKM)',
  'Furgoneta isoterma 2 (7390 MBN)',
  'Camión frigorífico (2156 KZR)',
];
const DRIVERS = ['Jordi Puig Serra', 'Rubén Castro Gil', 'Miguel Ángel Ortega', 'Sandra Vidal Roca'];

export interface Outlet extends Shop {
  /** The outlet's own (child) tenant. */
  readonly tenantId: string;
}

function bearing(origin: Location, to: Location): number {
  return Math.atan2(to.latitude - origin.latitude, to.longitude - origin.longitude);
}

/** Outlets grouped into routes: sorted by bearing from the origin, then cut into runs of STOPS_PER_ROUTE. */
export function groupIntoRoutes(origin: Location, outlets: readonly Outlet[]): Outlet[][] {
  const sorted = [...outlets].sort((a, b) => bearing(origin, a.location) - bearing(origin, b.location));
  const groups: Outlet[][] = [];
  const count = Math.ceil(sorted.length / STOPS_PER_ROUTE);
  for (let g = 0; g < count; g++) {
    groups.push(sorted.slice(Math.floor((g * sorted.length) / count), Math.floor(((g + 1) * sorted.length) / count)));
  }
  return groups;
}

export function addRoutes(
  set: TableSet,
  rng: Rng,
  parentTenantId: string,
  origin: Location,
  outlets: readonly Outlet[],
  products: readonly Product[],
  offsets: readonly number[],
  seq: Counter,
): void {
  const groups = groupIntoRoutes(origin, outlets).map((group) => ({
    group,
    plan: shortestRoute(
      origin,
      group.map((o) => o.location),
    ),
  }));
  for (const d of offsets) {
    const done = d <= 0;
    groups.forEach(({ group, plan }, g) => {
      const routeId = rng.uuid();
      const legCents = plan.legsKm.map((km) => Math.round(round(km, 2) * 100));
      const departure = moment(d, DEPARTURE.hours, DEPARTURE.minutes + 10 * g);
      set.add('orders.delivery_routes', {
        id: routeId,
        tenant_id: parentTenantId,
        origin_location_id: origin.id,
        route_code: `RUTA-${String(seq.next++).padStart(5, '0')}`,
        route_date: day(d),
        vehicle: VEHICLES[g % VEHICLES.length] as string,
        driver_name: DRIVERS[(g + (d & 1)) % DRIVERS.length] as string,
        total_distance_km: legCents.reduce((a, b) => a + b, 0) / 100,
        status: done ? 'completed' : 'planned',
      });
      let clock = departure;
      plan.order.forEach((index, k) => {
        const outlet = group[index] as Outlet;
        const legKm = plan.legsKm[k] as number;
        clock += Math.round((legKm / AVERAGE_SPEED_KMH) * 60) * 60 + (k > 0 ? UNLOADING_MINUTES * 60 : 0);
        const stopId = rng.uuid();
        set.add('orders.route_stops', {
          id: stopId,
          tenant_id: parentTenantId,
          route_id: routeId,
          location_id: outlet.location.id,
          outlet_tenant_id: outlet.tenantId,
          stop_sequence: k + 1,
          planned_arrival: timestamp(clock),
          distance_from_previous_km: (legCents[k] as number) / 100,
        });
        for (const product of products) {
          const quantity = Math.max(1, Math.round(expectedDemand(product, outlet.factor, d) * rng.between(1.0, 1.08)));
          set.add('orders.shipments', {
            id: rng.uuid(),
            tenant_id: parentTenantId,
            route_id: routeId,
            stop_id: stopId,
            product_id: product.id,
            quantity: round(quantity, 2),
            shipped_at: timestamp(departure),
            status: done ? 'delivered' : 'scheduled',
          });
        }
      });
    });
  }
}
