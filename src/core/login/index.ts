// The authorization-code login (flow.ts puts it together; see its header for the steps and the
// module that does each), as the CLI and the library use it.

export { type CallbackSpec, callbackSpec } from './callback-spec.ts';
export { login, missingIssuer } from './flow.ts';
export { startCallbackListener } from './loopback.ts';
export type { AuthorizationUrlInfo, LoginOptions, LoginResult, LoginStep, LoginUser } from './types.ts';
