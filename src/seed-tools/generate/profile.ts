import type { EntityName } from '../../catalog/tables.ts';
import type { TableSet } from './records.ts';
import type { FilePlan, JsonFilePlan, Rows } from './writer.ts';

/** What a profile builder hands to the writer: its tenants and its files in load order. */
export interface ProfilePlan {
  readonly description: string;
  readonly tenants: ReadonlyArray<{
    readonly id: string;
    readonly role: 'main' | 'parent' | 'child';
    readonly name: string;
  }>;
  readonly files: readonly FilePlan[];
  /** The profile's main user: the demo token is issued for it (manifest.json `owner`). */
  readonly owner: { readonly user_id: string; readonly role: string };
}

/**
 * Paths of every data file the generator may write (any profile, any arguments).
 * Such files in the output folder that a run does not write are left from an
 * earlier run with other arguments, and are removed.
 */
export const GENERATED_FILE =
  /^(?:(?:parent\/)?\d{2}-[a-z-]+|children\/outlet-\d+(?:-sales-historical)?|distribution\/routes-[a-z]+)\.(?:json|ndjson)$/;

/** Above this many sales rows in a profile, sales history goes to `.ndjson` files. */
export const NDJSON_THRESHOLD = 200_000;

/** History days of delivery routes (enterprise) and future days planned. */
export const ROUTE_HISTORY_DAYS = 14;
export const FUTURE_PRODUCTION_DAYS = 3;
export const FORECAST_HORIZON_DAYS = 14;

/** A `.json` file holding the tables of some TableSets and lazily generated tables. */
export function jsonFile(
  path: string,
  description: string,
  ...parts: Array<TableSet | readonly [EntityName, Rows]>
): JsonFilePlan {
  const tables: Array<readonly [EntityName, Rows]> = [];
  for (const part of parts) {
    if (Array.isArray(part)) tables.push(part as readonly [EntityName, Rows]);
    else tables.push(...(part as TableSet).entries());
  }
  return { kind: 'json', path, description, tables };
}
