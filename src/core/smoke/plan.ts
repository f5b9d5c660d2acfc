// The plan of a smoke run: which steps, in which order (--steps, and the steps a chosen one needs).

import type { Settings } from '../config.ts';
import { usageError } from '../errors.ts';
import type { SmokeStep } from './step.ts';
import { STEP_LIST, type StepName } from './steps/index.ts';

export type { StepName } from './steps/index.ts';

/** Every step, in the order a run takes them. */
export const STEPS: StepName[] = STEP_LIST.map((s) => s.name);

/** The steps that call the API (steps/api.ts): planned only when one is configured (--api). */
const API_STEPS = new Set<string>([
  'api',
  'api-without-cert',
  'api-other-cert',
  'api-without-proof',
  'api-other-key',
]);
/** The api steps that prove a DPoP binding: planned only with --dpop. */
const DPOP_API_STEPS = new Set<string>(['api-without-proof', 'api-other-key']);

/** One line per step. */
export const STEP_SUMMARY = Object.fromEntries(STEP_LIST.map((s) => [s.name, s.summary])) as Record<
  StepName,
  string
>;

const byName = new Map<string, SmokeStep>(STEP_LIST.map((s) => [s.name, s]));

// A step needs and brings only steps that run before it.
STEP_LIST.forEach((step, i) => {
  for (const d of [...step.needs, ...step.brings]) {
    if (!STEP_LIST.slice(0, i).some((s) => s.name === d))
      throw new Error(`smoke step ${step.name}: "${d}" is not an earlier step`);
  }
});

/** A step's definition (what it needs, how it runs). */
export function stepOf(step: StepName): SmokeStep {
  return byName.get(step)!;
}

/** The steps whose output a step needs: when one of them failed (or was skipped), it is skipped. */
export function needsOf(step: StepName): StepName[] {
  return byName.get(step)!.needs as StepName[];
}

/**
 * Steps that produce what a chosen step cannot run without: added to a --steps list. Discovery
 * only when there is an issuer (else the endpoints come from the settings).
 */
function dataDependencies(step: StepName, hasIssuer: boolean): readonly StepName[] {
  return (byName.get(step)!.brings as StepName[]).filter((s) => s !== 'discovery' || hasIssuer);
}

export const STEP_HINT = `steps: ${STEPS.join(', ')}`;

/** Parses `--steps a,b,c` (also accepts "all"). */
export function parseSteps(list: string): StepName[] {
  const names = list
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (names.length === 0) throw usageError('BAD_STEPS', '--steps is empty', { hint: STEP_HINT });
  if (names.includes('all')) return [...STEPS];
  for (const n of names) {
    if (!(STEPS as readonly string[]).includes(n)) {
      throw usageError('BAD_STEPS', `unknown step "${n}"`, { hint: STEP_HINT });
    }
  }
  return names as StepName[];
}

/**
 * The steps to run, in order. Without a choice (or "all"): every step that applies (discovery only
 * with an issuer, the api steps only with an API, their DPoP ones only with --dpop, fapi2 only with
 * --security-profile). A chosen step brings along the steps that produce its input (token for
 * introspect, revoke for introspect-after-revoke, discovery when endpoints come from the issuer).
 */
export function planSteps(
  chosen: StepName[] | undefined,
  settings: Settings,
  o: { securityProfile?: string } = {},
): StepName[] {
  const hasIssuer = !!settings.issuer;
  if (o.securityProfile && !hasIssuer) {
    throw usageError('MISSING_ISSUER', '--security-profile needs --issuer URL', {
      hint: "the profile is checked against the IdP's discovery document",
    });
  }
  const dpop = !!(settings.dpop || settings.dpopKey);
  const applies = (s: StepName) =>
    (s !== 'discovery' || hasIssuer) &&
    (!API_STEPS.has(s) || !!settings.api) &&
    (!DPOP_API_STEPS.has(s) || dpop) &&
    (s !== 'fapi2' || !!o.securityProfile);
  // No choice, or --steps all: every step that applies to these settings.
  if (!chosen || STEPS.every((s) => chosen!.includes(s))) return STEPS.filter(applies);
  // --security-profile adds its step to a --steps list.
  if (o.securityProfile && !chosen.includes('fapi2')) chosen = [...chosen, 'fapi2'];
  const apiStep = chosen.find((s) => API_STEPS.has(s));
  if (apiStep && !settings.api) {
    throw usageError('NO_API', `the ${apiStep} step needs the API's URL`, {
      hint: 'give --api URL (or MTLS_OAUTH_API, profile "api"): a resource the bound token may call',
    });
  }
  if (chosen.includes('discovery') && !hasIssuer) {
    throw usageError('MISSING_ISSUER', 'the discovery step needs --issuer URL', {
      hint: 'give --issuer (or MTLS_OAUTH_ISSUER), or leave discovery out of --steps',
    });
  }
  const wanted = new Set<StepName>();
  const add = (s: StepName) => {
    if (wanted.has(s)) return;
    wanted.add(s);
    for (const d of dataDependencies(s, hasIssuer)) add(d);
  };
  for (const s of chosen) add(s);
  return STEPS.filter((s) => wanted.has(s));
}
