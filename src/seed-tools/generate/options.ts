/**
 * The generator's arguments, checked in one place for the CLI and for
 * programmatic callers alike. Defaults reproduce the checked-in profiles.
 */
export const PROFILES = ['professional', 'enterprise'] as const;
export type ProfileName = (typeof PROFILES)[number];

export interface GenerateOptions {
  profile: ProfileName;
  seed: number;
  days?: number;
  outlets?: number;
  products?: number;
  scale?: number;
  out: string;
}

/** Every argument with its default filled in (`outlets` only for enterprise), as recorded in the manifest. */
export interface ResolvedArgs {
  readonly profile: ProfileName;
  readonly seed: number;
  readonly days: number;
  readonly products: number;
  readonly outlets?: number;
  readonly scale: number;
}

export const DEFAULTS = { days: 90, products: 3, outlets: 3, scale: 1 } as const;

export const LIMITS = {
  seed: { min: 0, max: 0xffff_ffff },
  days: { min: 7, max: 3650 },
  products: { min: 1, max: 100 },
  outlets: { min: 1, max: 50 },
  scale: { min: 1, max: 100_000 },
} as const;

/** A bad argument; `option` names it as on the command line (e.g. `--days`). */
export class GenerateOptionsError extends Error {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`${option}: ${message}`);
    this.name = 'GenerateOptionsError';
  }
}

function whole(option: keyof typeof LIMITS, value: unknown): number {
  const { min, max } = LIMITS[option];
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new GenerateOptionsError(`--${option}`, `must be a whole number, got ${JSON.stringify(value)}`);
  }
  if (value < min || value > max) {
    throw new GenerateOptionsError(`--${option}`, `must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

export function resolveOptions(opts: GenerateOptions): ResolvedArgs {
  if (!(PROFILES as readonly unknown[]).includes(opts.profile)) {
    throw new GenerateOptionsError(
      '--profile',
      `must be one of ${PROFILES.join(', ')}, got ${JSON.stringify(opts.profile)}`,
    );
  }
  if (typeof opts.out !== 'string' || opts.out.trim() === '') {
    throw new GenerateOptionsError('--out', 'must name the folder to write the profile to');
  }
  const seed = whole('seed', opts.seed);
  const days = whole('days', opts.days ?? DEFAULTS.days);
  const products = whole('products', opts.products ?? DEFAULTS.products);
  const scale = whole('scale', opts.scale ?? DEFAULTS.scale);
  if (opts.profile === 'professional') {
    if (opts.outlets !== undefined) {
      throw new GenerateOptionsError('--outlets', 'applies only to the enterprise profile');
    }
    return { profile: opts.profile, seed, days, products, scale };
  }
  const outlets = whole('outlets', opts.outlets ?? DEFAULTS.outlets);
  return { profile: opts.profile, seed, days, products, outlets, scale };
}

/** The command that regenerates a profile into the repository's seed-data folder (defaults left out). */
export function commandLine(args: ResolvedArgs): string {
  const parts = ['demo-seed generate', `--profile ${args.profile}`, `--seed ${args.seed}`];
  if (args.days !== DEFAULTS.days) parts.push(`--days ${args.days}`);
  if (args.outlets !== undefined && args.outlets !== DEFAULTS.outlets) parts.push(`--outlets ${args.outlets}`);
  if (args.products !== DEFAULTS.products) parts.push(`--products ${args.products}`);
  if (args.scale !== DEFAULTS.scale) parts.push(`--scale ${args.scale}`);
  parts.push(`--out seed-data/${args.profile}`);
  return parts.join(' ');
}
