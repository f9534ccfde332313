/**
 * Delivery route planning for the enterprise distribution network: distances
 * by the haversine formula, and the stop order that makes the route from the
 * origin shortest, found by trying every order (routes have few stops).
 *
 * A route is open: it starts at the origin and ends at its last stop (the
 * return trip is not counted), so its length is the sum of its legs.
 */
export interface LatLon {
  readonly latitude: number;
  readonly longitude: number;
}

/** Mean Earth radius (km) used for every distance in the seed data. */
export const EARTH_RADIUS_KM = 6371;

/** Great-circle distance in km. */
export function haversineKm(a: LatLon, b: LatLon): number {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Length in km of the open path origin -> stops[order[0]] -> stops[order[1]] -> ... */
export function pathLengthKm(origin: LatLon, stops: readonly LatLon[], order: readonly number[]): number {
  let total = 0;
  let from = origin;
  for (const i of order) {
    const to = stops[i] as LatLon;
    total += haversineKm(from, to);
    from = to;
  }
  return total;
}

/** Every permutation of 0..n-1, in lexicographic order. */
export function* permutations(n: number): Generator<number[]> {
  const p = Array.from({ length: n }, (_, i) => i);
  for (;;) {
    yield [...p];
    let i = n - 2;
    while (i >= 0 && (p[i] as number) >= (p[i + 1] as number)) i--;
    if (i < 0) return;
    let j = n - 1;
    while ((p[j] as number) <= (p[i] as number)) j--;
    [p[i], p[j]] = [p[j] as number, p[i] as number];
    for (let a = i + 1, b = n - 1; a < b; a++, b--) [p[a], p[b]] = [p[b] as number, p[a] as number];
  }
}

/** Most stops one route may have: brute force tries n! orders. */
export const MAX_STOPS_PER_ROUTE = 7;

export interface PlannedRoute {
  /** Indexes into `stops`, in visiting order. */
  readonly order: number[];
  /** Leg lengths in km (origin to first stop, then stop to stop), unrounded. */
  readonly legsKm: number[];
  readonly totalKm: number;
}

/** The shortest visiting order (the first one in lexicographic order among equals). */
export function shortestRoute(origin: LatLon, stops: readonly LatLon[]): PlannedRoute {
  if (stops.length === 0) throw new Error('a route needs at least one stop');
  if (stops.length > MAX_STOPS_PER_ROUTE) throw new Error(`a route has at most ${MAX_STOPS_PER_ROUTE} stops`);
  let best: number[] = [];
  let bestKm = Infinity;
  for (const order of permutations(stops.length)) {
    const km = pathLengthKm(origin, stops, order);
    if (km < bestKm) {
      bestKm = km;
      best = order;
    }
  }
  const legsKm: number[] = [];
  let from = origin;
  for (const i of best) {
    const to = stops[i] as LatLon;
    legsKm.push(haversineKm(from, to));
    from = to;
  }
  return { order: best, legsKm, totalKm: bestKm };
}
