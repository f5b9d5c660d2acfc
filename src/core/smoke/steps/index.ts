// The smoke test's steps, in the order a run takes them. Adding a step: its file in this folder
// (exporting a SmokeStep, step.ts) and its place in this list.

import {
  apiOtherCertStep,
  apiOtherKeyStep,
  apiStep,
  apiWithoutCertStep,
  apiWithoutProofStep,
} from './api.ts';
import { bindingStep } from './binding.ts';
import { discoveryStep } from './discovery.ts';
import { fapi2Step } from './fapi2.ts';
import { introspectAfterRevokeStep, introspectStep } from './introspect.ts';
import { revokeStep } from './revoke.ts';
import { tlsStep } from './tls.ts';
import { tokenStep } from './token.ts';

export const STEP_LIST = [
  discoveryStep,
  tlsStep,
  tokenStep,
  bindingStep,
  fapi2Step,
  apiStep,
  apiWithoutCertStep,
  apiOtherCertStep,
  apiWithoutProofStep,
  apiOtherKeyStep,
  introspectStep,
  revokeStep,
  introspectAfterRevokeStep,
] as const;

export type StepName = (typeof STEP_LIST)[number]['name'];
