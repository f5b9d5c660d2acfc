// The smoke test's public surface: import the smoke test from here. run.ts runs it; plan.ts picks
// the steps; steps/ holds one file per step; expect-fail.ts inverts steps for negative tests.

export { applyExpectation, type ExpectFail, parseExpectFail } from './expect-fail.ts';
export { SMOKE_GRANTS, type SmokeGrant, type SmokeOptions } from './options.ts';
export { parseSteps, planSteps, STEP_SUMMARY, STEPS, type StepName } from './plan.ts';
export { type CachedRefreshToken, refreshTokenFor } from './refresh-token.ts';
export type { SmokeReport, StepError, StepResult, StepStatus } from './report.ts';
export { runSmoke } from './run.ts';
export type { SmokeStep } from './step.ts';
export { tokenParams } from './steps/token.ts';
