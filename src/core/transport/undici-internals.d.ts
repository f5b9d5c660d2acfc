// Types for the undici modules imported by path in undici-lite.ts.
declare module 'undici/lib/dispatcher/agent.js' {
  import type { Agent } from 'undici';

  const AgentImpl: typeof Agent;
  export default AgentImpl;
}
declare module 'undici/lib/core/util.js' {
  const util: {
    /** Raw header pairs [name, value, ...] into an object: lower-case names, repeats as arrays. */
    parseHeaders(raw: Buffer[]): Record<string, string | string[] | undefined>;
  };
  export default util;
}
